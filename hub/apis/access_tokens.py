"""Personal access tokens: list, create (the secret is answered once), revoke."""

from __future__ import annotations

import uuid

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from hub import selectors_accounts
from hub.api_permissions import NotAnAccessToken
from hub.apis.common import BaseApi, PaginatedApi, errors
from hub.credentials import is_robot
from hub.models import AccessToken
from hub.services.access_tokens import access_token_create, access_token_revoke


class AccessTokenOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="uuid")
    label = serializers.CharField()
    scopes = serializers.ListField(child=serializers.CharField())
    token_prefix = serializers.CharField(help_text="The secret's first characters.")
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    last_used_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "AccessToken"


class AccessTokenCreatedSerializer(AccessTokenOutputSerializer):
    token = serializers.CharField(help_text="The secret; shown only in this answer.")

    class Meta:
        ref_name = "AccessTokenCreated"


class AccessTokenListApi(PaginatedApi):
    permission_classes = [IsAuthenticated, NotAnAccessToken]

    class InputSerializer(serializers.Serializer):
        label = serializers.CharField(max_length=100)
        scopes = serializers.ListField(
            child=serializers.ChoiceField(choices=AccessToken.Scope.choices),
            allow_empty=False,
            max_length=len(AccessToken.Scope.values),
        )
        expires_at = serializers.DateTimeField(required=False, allow_null=True)

        class Meta:
            ref_name = "AccessTokenCreate"

    @extend_schema(
        operation_id="access_tokens_list",
        responses={200: AccessTokenOutputSerializer(many=True), **errors(401, 403, 404)},
    )
    def get(self, request):
        tokens = selectors_accounts.access_token_list(user=request.user)
        return self.paginated(tokens, AccessTokenOutputSerializer)

    @extend_schema(
        operation_id="access_tokens_create",
        request=InputSerializer,
        responses={201: AccessTokenCreatedSerializer, **errors(400, 401, 403)},
    )
    def post(self, request):
        if is_robot(request.user):  # a robot's only credential is its secret, rotated by owners
            raise exceptions.PermissionDenied("Robot accounts cannot create access tokens.")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token, secret = access_token_create(user=request.user, **data.validated_data)
        token.token = secret
        return Response(AccessTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)


@extend_schema(parameters=[OpenApiParameter("token_id", str, "path", description="Token id.")])
class AccessTokenDetailApi(BaseApi):
    permission_classes = [IsAuthenticated, NotAnAccessToken]

    def _token(self, request, token_id: str) -> AccessToken:
        try:
            key = uuid.UUID(token_id)
        except ValueError:
            key = None
        tokens = selectors_accounts.access_token_list(user=request.user)
        token = tokens.filter(uuid=key).first() if key else None
        if token is None:
            raise exceptions.NotFound("Access token not found.")
        return token

    @extend_schema(
        operation_id="access_tokens_retrieve",
        responses={200: AccessTokenOutputSerializer, **errors(401, 403, 404)},
    )
    def get(self, request, token_id):
        return Response(AccessTokenOutputSerializer(self._token(request, token_id)).data)

    @extend_schema(
        operation_id="access_tokens_destroy",
        responses={204: None, **errors(401, 403, 404)},
    )
    def delete(self, request, token_id):
        access_token_revoke(token=self._token(request, token_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
