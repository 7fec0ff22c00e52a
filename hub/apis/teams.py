"""Teams of an organization: members see them; owners create, change and delete them, manage
their members and grant them repositories."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from hub import permissions, selectors, selectors_accounts
from hub.apis.common import BaseApi, PaginatedApi, errors
from hub.apis.organizations import _manage_check, _organization_namespace_or_404
from hub.models import Collaborator, Namespace, Team
from hub.names import PATH_COMPONENT_RE
from hub.services import teams

ORG = OpenApiParameter("name", str, "path", description="Organization.")
TEAM = OpenApiParameter("team", str, "path", description="Team name.")


class TeamOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    member_count = serializers.IntegerField()
    repository_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()

    class Meta:
        ref_name = "Team"


class TeamMemberSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=64)

    class Meta:
        ref_name = "TeamMember"


class TeamGrantOutputSerializer(serializers.Serializer):
    repository = serializers.CharField(source="repository.name")
    full_name = serializers.CharField(source="repository.full_name")
    role = serializers.ChoiceField(choices=Collaborator.Role.choices)

    class Meta:
        ref_name = "TeamRepository"


class TeamGrantInputSerializer(serializers.Serializer):
    repository = serializers.CharField(max_length=255, help_text="Name within the organization.")
    role = serializers.ChoiceField(choices=Collaborator.Role.choices, default="read")

    class Meta:
        ref_name = "TeamRepositoryGrant"


def _visible_org(request, name: str) -> Namespace:
    """The organization, for its members (and superusers) only."""
    namespace = _organization_namespace_or_404(name)
    if permissions.namespace_role(request.user, namespace) is None:
        raise exceptions.PermissionDenied("Only members see the organization's teams.")
    return namespace


def _team_or_404(namespace: Namespace, name: str) -> Team:
    team = selectors_accounts.team_get(organization=namespace.organization, name=name)
    if team is None:
        raise exceptions.NotFound("Team not found.")
    return team


def _visible_team(request, org: str, team: str) -> Team:
    """The team, for the organization's members (and superusers) only."""
    return _team_or_404(_visible_org(request, org), team)


def _managed_team(request, org: str, team: str) -> tuple[Namespace, Team]:
    """The organization and its team, for those who manage the organization only."""
    namespace = _organization_namespace_or_404(org)
    _manage_check(request, namespace)
    return namespace, _team_or_404(namespace, team)


def _team_data(namespace: Namespace, team: Team) -> dict:
    # Re-read with the counts annotated.
    return TeamOutputSerializer(_team_or_404(namespace, team.name)).data


@extend_schema(parameters=[ORG])
class TeamListApi(PaginatedApi):
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=64)
        description = serializers.CharField(max_length=200, required=False, allow_blank=True)

        class Meta:
            ref_name = "TeamCreate"

    @extend_schema(
        operation_id="org_teams_list",
        responses={200: TeamOutputSerializer(many=True), **errors(401, 403, 404)},
    )
    def get(self, request, name):
        namespace = _visible_org(request, name)
        return self.paginated(
            selectors_accounts.team_list(organization=namespace.organization),
            TeamOutputSerializer,
        )

    @extend_schema(
        operation_id="org_teams_create",
        request=InputSerializer,
        responses={201: TeamOutputSerializer, **errors(400, 401, 403, 404)},
    )
    def post(self, request, name):
        namespace = _organization_namespace_or_404(name)
        _manage_check(request, namespace)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        team = teams.team_create(organization=namespace.organization, **data.validated_data)
        return Response(_team_data(namespace, team), status=status.HTTP_201_CREATED)


@extend_schema(parameters=[ORG, TEAM])
class TeamDetailApi(BaseApi):
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        """PATCH: missing fields stay as they are."""

        name = serializers.CharField(max_length=64, required=False)
        description = serializers.CharField(max_length=200, required=False, allow_blank=True)

        class Meta:
            ref_name = "TeamUpdate"

    @extend_schema(
        operation_id="org_teams_retrieve",
        responses={200: TeamOutputSerializer, **errors(401, 403, 404)},
    )
    def get(self, request, name, team):
        return Response(TeamOutputSerializer(_visible_team(request, name, team)).data)

    @extend_schema(
        operation_id="org_teams_update",
        request=InputSerializer,
        responses={200: TeamOutputSerializer, **errors(400, 401, 403, 404)},
    )
    def patch(self, request, name, team):
        namespace, found = _managed_team(request, name, team)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        found = teams.team_update(team=found, **data.validated_data)
        return Response(_team_data(namespace, found))

    @extend_schema(operation_id="org_teams_destroy", responses={204: None, **errors(401, 403, 404)})
    def delete(self, request, name, team):
        namespace = _organization_namespace_or_404(name)
        _manage_check(request, namespace)
        teams.team_delete(team=_team_or_404(namespace, team))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(parameters=[ORG, TEAM])
class TeamMemberListApi(PaginatedApi):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="org_team_members_list",
        responses={200: TeamMemberSerializer(many=True), **errors(401, 403, 404)},
    )
    def get(self, request, name, team):
        found = _visible_team(request, name, team)
        return self.paginated(selectors_accounts.team_member_list(team=found), TeamMemberSerializer)

    @extend_schema(
        operation_id="org_team_members_create",
        request=TeamMemberSerializer,
        responses={201: TeamMemberSerializer, **errors(400, 401, 403, 404)},
    )
    def post(self, request, name, team):
        _, found = _managed_team(request, name, team)
        data = TeamMemberSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = teams.team_member_add(team=found, username=data.validated_data["username"])
        return Response(TeamMemberSerializer(membership.user).data, status=status.HTTP_201_CREATED)


@extend_schema(parameters=[ORG, TEAM, OpenApiParameter("username", str, "path")])
class TeamMemberDetailApi(BaseApi):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="org_team_members_destroy", responses={204: None, **errors(401, 403, 404)}
    )
    def delete(self, request, name, team, username):
        _, found = _managed_team(request, name, team)
        member = None
        if PATH_COMPONENT_RE.match(username):
            member = selectors_accounts.team_member_list(team=found).filter(username=username)
            member = member.first()
        if member is None:
            raise exceptions.NotFound("Team member not found.")
        teams.team_member_remove(team=found, user=member)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(parameters=[ORG, TEAM])
class TeamRepositoryListApi(PaginatedApi):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="org_team_repositories_list",
        responses={200: TeamGrantOutputSerializer(many=True), **errors(401, 403, 404)},
    )
    def get(self, request, name, team):
        found = _visible_team(request, name, team)
        return self.paginated(
            selectors_accounts.team_grant_list(team=found), TeamGrantOutputSerializer
        )

    @extend_schema(
        operation_id="org_team_repositories_create",
        request=TeamGrantInputSerializer,
        responses={201: TeamGrantOutputSerializer, **errors(400, 401, 403, 404)},
        description="Grant the team a role on a repository (or change its role).",
    )
    def post(self, request, name, team):
        namespace, found = _managed_team(request, name, team)
        data = TeamGrantInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        repository = selectors.repository_get(
            namespace=namespace.name, name=data.validated_data["repository"]
        )
        if repository is None:
            raise exceptions.ValidationError(
                {"repository": ["No such repository in this organization."]}
            )
        grant = teams.team_repository_grant(
            team=found, repository=repository, role=data.validated_data["role"]
        )
        return Response(TeamGrantOutputSerializer(grant).data, status=status.HTTP_201_CREATED)


@extend_schema(
    parameters=[
        ORG,
        TEAM,
        OpenApiParameter("repository", str, "path", description="Name within the organization."),
    ]
)
class TeamRepositoryDetailApi(BaseApi):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="org_team_repositories_destroy",
        responses={204: None, **errors(401, 403, 404)},
    )
    def delete(self, request, name, team, repository):
        namespace, found = _managed_team(request, name, team)
        repo = selectors.repository_get(namespace=namespace.name, name=repository)
        if repo is None or not found.grants.filter(repository=repo).exists():
            raise exceptions.NotFound("Grant not found.")
        teams.team_repository_revoke(team=found, repository=repo)
        return Response(status=status.HTTP_204_NO_CONTENT)
