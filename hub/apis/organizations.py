"""Namespaces (user or organization), organizations and their members."""

from __future__ import annotations

from collections.abc import Mapping

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from hub import permissions, selectors, selectors_accounts
from hub.api_permissions import token_allows
from hub.apis.common import BaseApi, PaginatedApi, errors
from hub.models import Membership, Namespace
from hub.names import PATH_COMPONENT_RE
from hub.services import organizations, publishers

SCOPE_MESSAGE = "Managing organizations needs a repo:admin token or your password."


def _namespace_or_404(name: str) -> Namespace:
    namespace = selectors.namespace_get(name=name) if PATH_COMPONENT_RE.match(name) else None
    if namespace is None:
        raise exceptions.NotFound("Namespace not found.")
    return namespace


def _organization_namespace_or_404(name: str) -> Namespace:
    namespace = _namespace_or_404(name)
    if not namespace.is_organization:
        raise exceptions.NotFound("Organization not found.")
    return namespace


def _manage_check(request, namespace: Namespace) -> None:
    if not permissions.can_manage_organization(request.user, namespace):
        raise exceptions.PermissionDenied("Only the organization's owners may do this.")
    if not token_allows(request, "admin"):
        raise exceptions.PermissionDenied(SCOPE_MESSAGE)


class NamespaceOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Namespace.Kind.choices)
    display_name = serializers.CharField(allow_blank=True)
    description = serializers.CharField(allow_blank=True)
    date_joined = serializers.DateTimeField()
    repository_count = serializers.IntegerField(help_text="Repositories visible to the caller.")
    website = serializers.CharField(allow_blank=True, help_text="Organizations only.")
    verified_publisher = serializers.BooleanField(help_text="Granted by administrators.")
    sponsored = serializers.BooleanField(help_text="Granted by administrators.")

    class Meta:
        ref_name = "Namespace"


@extend_schema(parameters=[OpenApiParameter("namespace", str, "path")])
class NamespaceDetailApi(BaseApi):
    @extend_schema(
        operation_id="namespaces_retrieve",
        responses={200: NamespaceOutputSerializer, **errors(401, 404)},
    )
    def get(self, request, namespace):
        found = _namespace_or_404(namespace)
        owner = found.organization if found.is_organization else found.user
        data = {
            "name": found.name,
            "kind": found.kind,
            "display_name": (
                owner.display_name if found.is_organization else owner.get_full_name()
            ),
            "description": owner.description if found.is_organization else owner.bio,
            "date_joined": owner.created_at if found.is_organization else owner.date_joined,
            "repository_count": selectors.repository_list_visible(user=request.user)
            .filter(namespace=found)
            .count(),
            "website": owner.website if found.is_organization else "",
            "verified_publisher": found.is_organization and owner.verified_publisher,
            "sponsored": found.is_organization and owner.sponsored,
        }
        return Response(NamespaceOutputSerializer(data).data)


class OrganizationOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    display_name = serializers.CharField(allow_blank=True)
    description = serializers.CharField(allow_blank=True)
    website = serializers.CharField(allow_blank=True)
    verified_publisher = serializers.BooleanField(
        read_only=True, help_text="Granted by administrators only."
    )
    sponsored = serializers.BooleanField(
        read_only=True, help_text="Granted by administrators only."
    )
    created_at = serializers.DateTimeField()
    role = serializers.SerializerMethodField()

    class Meta:
        ref_name = "Organization"

    def get_role(self, organization) -> str | None:
        user = self.context["request"].user
        if not user.is_authenticated:
            return None
        membership = Membership.objects.filter(organization=organization, user=user).first()
        return membership.role if membership else None


class OrganizationListApi(PaginatedApi):
    """The caller's organizations; any signed-in user may create one."""

    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=64)
        display_name = serializers.CharField(max_length=100, required=False, allow_blank=True)

        class Meta:
            ref_name = "OrganizationCreate"

    @extend_schema(
        operation_id="orgs_list",
        responses={200: OrganizationOutputSerializer(many=True), **errors(401, 403, 404)},
    )
    def get(self, request):
        return self.paginated(
            selectors_accounts.organization_list(user=request.user), OrganizationOutputSerializer
        )

    @extend_schema(
        operation_id="orgs_create",
        request=InputSerializer,
        responses={201: OrganizationOutputSerializer, **errors(400, 401, 403)},
    )
    def post(self, request):
        if not token_allows(request, "admin"):
            raise exceptions.PermissionDenied(SCOPE_MESSAGE)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        organization = organizations.organization_create(owner=request.user, **data.validated_data)
        return Response(
            OrganizationOutputSerializer(organization, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


@extend_schema(parameters=[OpenApiParameter("name", str, "path", description="Organization.")])
class OrganizationDetailApi(BaseApi):
    """The publisher profile: anyone reads it; owners edit the profile fields; only
    administrators (staff with the change-organization permission) set the badges."""

    class ProfileSerializer(serializers.Serializer):
        display_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
        description = serializers.CharField(max_length=200, required=False, allow_blank=True)
        website = serializers.URLField(max_length=200, required=False, allow_blank=True)

        class Meta:
            ref_name = "OrganizationProfileUpdate"

    class BadgeSerializer(serializers.Serializer):
        verified_publisher = serializers.BooleanField(required=False)
        sponsored = serializers.BooleanField(required=False)

        class Meta:
            ref_name = "OrganizationBadgeUpdate"

    class InputSerializer(ProfileSerializer, BadgeSerializer):
        class Meta:
            ref_name = "OrganizationUpdate"

    @extend_schema(
        operation_id="orgs_retrieve",
        responses={200: OrganizationOutputSerializer, **errors(401, 404)},
    )
    def get(self, request, name):
        organization = _organization_namespace_or_404(name).organization
        return Response(
            OrganizationOutputSerializer(organization, context={"request": request}).data
        )

    @extend_schema(
        operation_id="orgs_update",
        request=InputSerializer,
        responses={200: OrganizationOutputSerializer, **errors(400, 401, 403, 404)},
        description="Badge fields are ignored unless the caller is an administrator.",
    )
    def patch(self, request, name):
        if not request.user.is_authenticated:
            raise exceptions.NotAuthenticated()
        namespace = _organization_namespace_or_404(name)
        organization = namespace.organization
        # Badges are read-only to everyone else (owners included): their values are dropped.
        grants = permissions.can_grant_badges(request.user) and token_allows(request, "admin")
        fields = request.data if isinstance(request.data, Mapping) else {}
        if not grants or any(field in fields for field in publishers.PROFILE_FIELDS):
            _manage_check(request, namespace)  # before validation: outsiders learn nothing
        profile = self.ProfileSerializer(data=request.data, partial=True)
        profile.is_valid(raise_exception=True)
        badges = self.BadgeSerializer(data=request.data if grants else {}, partial=True)
        badges.is_valid(raise_exception=True)
        if profile.validated_data:
            publishers.organization_profile_update(
                organization=organization, **profile.validated_data
            )
        if badges.validated_data:
            publishers.publisher_badges_set(organization=organization, **badges.validated_data)
        return Response(
            OrganizationOutputSerializer(organization, context={"request": request}).data
        )


class MemberOutputSerializer(serializers.Serializer):
    username = serializers.CharField(source="user.username")
    role = serializers.ChoiceField(choices=Membership.Role.choices)
    joined_at = serializers.DateTimeField(source="created_at")

    class Meta:
        ref_name = "Member"


class MemberRoleSerializer(serializers.Serializer):
    """PATCH: a missing role leaves the membership as it is."""

    role = serializers.ChoiceField(choices=Membership.Role.choices, required=False)

    class Meta:
        ref_name = "MemberRole"


@extend_schema(parameters=[OpenApiParameter("name", str, "path", description="Organization.")])
class MemberListApi(PaginatedApi):
    """Members see the member list; owners add members."""

    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=64)
        role = serializers.ChoiceField(choices=Membership.Role.choices, default="member")

        class Meta:
            ref_name = "MemberAdd"

    @extend_schema(
        operation_id="org_members_list",
        responses={200: MemberOutputSerializer(many=True), **errors(401, 403, 404)},
    )
    def get(self, request, name):
        namespace = _organization_namespace_or_404(name)
        members = selectors_accounts.membership_list_visible(
            viewer=request.user, namespace=namespace
        )
        if members is None:
            raise exceptions.PermissionDenied("Only members see the member list.")
        return self.paginated(members, MemberOutputSerializer)

    @extend_schema(
        operation_id="org_members_create",
        request=InputSerializer,
        responses={201: MemberOutputSerializer, **errors(400, 401, 403, 404)},
    )
    def post(self, request, name):
        namespace = _organization_namespace_or_404(name)
        _manage_check(request, namespace)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = organizations.membership_add(
            organization=namespace.organization, **data.validated_data
        )
        return Response(MemberOutputSerializer(membership).data, status=status.HTTP_201_CREATED)


@extend_schema(
    parameters=[
        OpenApiParameter("name", str, "path", description="Organization."),
        OpenApiParameter("username", str, "path"),
    ]
)
class MemberDetailApi(BaseApi):
    """Owners change roles and remove members; a member may also leave."""

    permission_classes = [IsAuthenticated]

    def _membership(self, namespace, username):
        membership = None
        if PATH_COMPONENT_RE.match(username):
            membership = selectors_accounts.membership_get(
                organization=namespace.organization, username=username
            )
        if membership is None:
            raise exceptions.NotFound("Member not found.")
        return membership

    @extend_schema(
        operation_id="org_members_update",
        request=MemberRoleSerializer,
        responses={200: MemberOutputSerializer, **errors(400, 401, 403, 404)},
    )
    def patch(self, request, name, username):
        namespace = _organization_namespace_or_404(name)
        _manage_check(request, namespace)
        membership = self._membership(namespace, username)
        data = MemberRoleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if "role" in data.validated_data:
            membership = organizations.membership_update(
                membership=membership, role=data.validated_data["role"]
            )
        return Response(MemberOutputSerializer(membership).data)

    @extend_schema(
        operation_id="org_members_destroy",
        responses={204: None, **errors(400, 401, 403, 404)},
    )
    def delete(self, request, name, username):
        namespace = _organization_namespace_or_404(name)
        if username != request.user.username:
            _manage_check(request, namespace)
        elif permissions.namespace_role(request.user, namespace) is None:
            raise exceptions.NotFound("Member not found.")
        elif not token_allows(request, "admin"):
            # Leaving changes membership like any removal: a read-only token must not do it.
            raise exceptions.PermissionDenied(SCOPE_MESSAGE)
        organizations.membership_remove(membership=self._membership(namespace, username))
        return Response(status=status.HTTP_204_NO_CONTENT)
