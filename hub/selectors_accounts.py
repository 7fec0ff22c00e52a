"""Reads for accounts: access tokens, organizations, memberships."""

from __future__ import annotations

from django.db.models import QuerySet

from hub.models import AccessToken, Membership, Organization


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


def membership_get(*, organization: Organization, username: str) -> Membership | None:
    return (
        Membership.objects.filter(organization=organization, user__username=username)
        .select_related("user", "organization")
        .first()
    )
