"""The signed-in user, and account creation by administrators (whatever SIGNUP says)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from hub.api_permissions import token_allows
from hub.apis.common import BaseApi, errors
from hub.forms import SignUpForm


class UserMeApi(BaseApi):
    permission_classes = [IsAuthenticated]

    class OutputSerializer(serializers.Serializer):
        username = serializers.CharField()
        email = serializers.CharField(allow_blank=True)
        full_name = serializers.CharField(source="get_full_name", allow_blank=True)
        bio = serializers.CharField(allow_blank=True)
        date_joined = serializers.DateTimeField()
        is_staff = serializers.BooleanField()

        class Meta:
            ref_name = "UserMe"

    @extend_schema(operation_id="users_me", responses={200: OutputSerializer, **errors(401)})
    def get(self, request):
        return Response(self.OutputSerializer(request.user).data)


class UserListApi(BaseApi):
    """Create an account: administrators only (the `hub.add_user` permission). Sign-up by
    anyone else goes through the web pages, as SIGNUP allows."""

    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=64)
        email = serializers.EmailField()
        password = serializers.CharField(write_only=True, style={"input_type": "password"})

        class Meta:
            ref_name = "UserCreate"

    class OutputSerializer(serializers.Serializer):
        username = serializers.CharField()
        email = serializers.CharField()
        date_joined = serializers.DateTimeField()

        class Meta:
            ref_name = "UserCreated"

    @extend_schema(
        operation_id="users_create",
        request=InputSerializer,
        responses={201: OutputSerializer, **errors(400, 401, 403)},
    )
    def post(self, request):
        if not request.user.has_perm("hub.add_user"):
            raise exceptions.PermissionDenied("Only administrators create accounts.")
        if not token_allows(request, "admin"):
            raise exceptions.PermissionDenied("Creating accounts needs a repo:admin token.")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        password = data.validated_data["password"]
        # The sign-up form's checks: reserved and taken names, the e-mail rule, password rules.
        form = SignUpForm({**data.validated_data, "password1": password, "password2": password})
        if not form.is_valid():
            detail = {
                ("password" if k in ("password1", "password2") else k): v
                for k, v in form.errors.items()
            }
            raise exceptions.ValidationError(detail)
        user = form.save()
        return Response(self.OutputSerializer(user).data, status=status.HTTP_201_CREATED)
