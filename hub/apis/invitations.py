"""An organization's invitations, for its owners: list the pending ones, create, withdraw."""

from __future__ import annotations

import uuid

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from hub.apis.common import BaseApi, PaginatedApi, errors
from hub.apis.organizations import _manage_check, _organization_namespace_or_404
from hub.models import Invitation, Membership
from hub.services.invitations import (
    invitation_create,
    invitation_list_pending,
    invitation_revoke,
    invitation_send,
    invitation_url,
)
from hub.services.mail import MailNotSent


class InvitationOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="uuid")
    email = serializers.CharField(allow_blank=True)
    role = serializers.ChoiceField(choices=Membership.Role.choices)
    status = serializers.ChoiceField(choices=Invitation.STATUSES)
    created_by = serializers.CharField(source="created_by.username", allow_null=True)
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()

    class Meta:
        ref_name = "Invitation"


class InvitationCreatedSerializer(InvitationOutputSerializer):
    url = serializers.CharField(help_text="The invitation link; shown only in this answer.")
    sent = serializers.BooleanField(
        help_text="Whether the link was mailed to `email` (false if the mail server refused)."
    )

    class Meta:
        ref_name = "InvitationCreated"


ORG = OpenApiParameter("name", str, "path", description="Organization.")


@extend_schema(parameters=[ORG])
class InvitationListApi(PaginatedApi):
    """Owners list pending invitations and create them: mailed when `send` (needs `email`),
    else a one-time link answered once in `url`."""

    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        email = serializers.EmailField(required=False, allow_blank=True, default="")
        role = serializers.ChoiceField(choices=Membership.Role.choices, default="member")
        send = serializers.BooleanField(
            default=False, help_text="Mail the link to `email` (which is then required)."
        )

        class Meta:
            ref_name = "InvitationCreate"

        def validate(self, data):
            if data["send"] and not data["email"]:
                raise serializers.ValidationError({"email": ["Needed to send the invitation."]})
            return data

    @extend_schema(
        operation_id="org_invitations_list",
        responses={200: InvitationOutputSerializer(many=True), **errors(401, 403, 404)},
    )
    def get(self, request, name):
        namespace = _organization_namespace_or_404(name)
        _manage_check(request, namespace)
        pending = invitation_list_pending(organization=namespace.organization)
        return self.paginated(pending, InvitationOutputSerializer)

    @extend_schema(
        operation_id="org_invitations_create",
        request=InputSerializer,
        responses={201: InvitationCreatedSerializer, **errors(400, 401, 403, 404)},
    )
    def post(self, request, name):
        namespace = _organization_namespace_or_404(name)
        _manage_check(request, namespace)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        send = data.validated_data.pop("send")
        invitation, token = invitation_create(
            created_by=request.user, organization=namespace.organization, **data.validated_data
        )
        sent = False
        if send:
            try:
                invitation_send(invitation=invitation, token=token)
                sent = True
            except MailNotSent:
                pass  # answered as sent=false: the caller hands `url` over another way
        invitation.url, invitation.sent = invitation_url(token), sent
        return Response(
            InvitationCreatedSerializer(invitation).data, status=status.HTTP_201_CREATED
        )


@extend_schema(parameters=[ORG, OpenApiParameter("invitation_id", str, "path")])
class InvitationDetailApi(BaseApi):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="org_invitations_destroy",
        responses={204: None, **errors(401, 403, 404)},
    )
    def delete(self, request, name, invitation_id):
        namespace = _organization_namespace_or_404(name)
        _manage_check(request, namespace)
        try:
            public_id = uuid.UUID(invitation_id)
        except ValueError:
            public_id = None
        invitation = Invitation.objects.filter(
            uuid=public_id, organization=namespace.organization
        ).first()
        if public_id is None or invitation is None:
            raise exceptions.NotFound("Invitation not found.")
        invitation_revoke(invitation=invitation)
        return Response(status=status.HTTP_204_NO_CONTENT)
