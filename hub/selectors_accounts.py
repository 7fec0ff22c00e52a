"""Reads for accounts: access tokens, organizations, memberships."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from hub import permissions
from hub.models import AccessToken, Membership, Namespace, Organization, Team, TeamRepository
from hub.names import PATH_COMPONENT_RE


def access_token_list(*, user) -> QuerySet[AccessToken]:
    """The user's tokens that have not been revoked, newest first (expired ones included)."""
    return AccessToken.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at")


def organization_list(*, user) -> QuerySet[Organization]:
    """Organizations the user belongs to, by name."""
    if not getattr(user, "is_authenticated", False):
        return Organization.objects.none()
    return Organization.objects.filter(membership__user=user).distinct().order_by("name")


def membership_list(*, organization: Organization) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .order_by("-role", "user__username")  # owners first
    )


def membership_list_visible(*, viewer, namespace: Namespace) -> QuerySet[Membership] | None:
    """An organization's members as `viewer` may see them: as on Docker Hub, only members (and
    staff) see who belongs to an organization; for anyone else None. Web and API both ask here."""
    if not namespace.is_organization or permissions.namespace_role(viewer, namespace) is None:
        return None
    return membership_list(organization=namespace.organization)


def membership_get(*, organization: Organization, username: str) -> Membership | None:
    return (
        Membership.objects.filter(organization=organization, user__username=username)
        .select_related("user", "organization")
        .first()
    )


def team_list(*, organization: Organization) -> QuerySet[Team]:
    """The organization's teams by name, with member and repository counts."""
    return (
        Team.objects.filter(organization=organization)
        .annotate(
            member_count=Count("members", distinct=True),
            repository_count=Count("grants", distinct=True),
        )
        .order_by("name")
    )


def team_get(*, organization: Organization, name: str) -> Team | None:
    if len(name) > 64 or not PATH_COMPONENT_RE.match(name):
        return None
    return team_list(organization=organization).filter(name=name).first()


def team_member_list(*, team: Team):
    return team.members.order_by("username")


def team_grant_list(*, team: Team) -> QuerySet[TeamRepository]:
    return (
        TeamRepository.objects.filter(team=team)
        .select_related("repository__namespace")
        .order_by("repository__name")
    )
