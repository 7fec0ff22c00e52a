"""Publisher profiles and badges: owners edit the profile, administrators grant the badges.

Two services, so no owner-facing form or serializer can reach a badge: the profile update
takes no badge argument at all. Callers check hub.permissions (can_manage_organization for
the profile, can_grant_badges for the badges).
"""

from __future__ import annotations

from django.db import transaction

from hub.models import Organization

PROFILE_FIELDS = ("display_name", "description", "website")
BADGE_FIELDS = ("verified_publisher", "sponsored")


def _update(organization: Organization, changes: dict) -> Organization:
    for field, value in changes.items():
        setattr(organization, field, value)
    if changes:
        organization.full_clean(validate_unique=False, exclude=["name"])
        organization.save(update_fields=list(changes))
    return organization


@transaction.atomic
def organization_profile_update(
    *,
    organization: Organization,
    display_name: str | None = None,
    description: str | None = None,
    website: str | None = None,
) -> Organization:
    """Change the public profile fields given (None leaves a field as it is)."""
    given = {"display_name": display_name, "description": description, "website": website}
    return _update(organization, {k: v for k, v in given.items() if v is not None})


@transaction.atomic
def publisher_badges_set(
    *,
    organization: Organization,
    verified_publisher: bool | None = None,
    sponsored: bool | None = None,
) -> Organization:
    """Grant or withdraw the badges given (None leaves a badge as it is)."""
    given = {"verified_publisher": verified_publisher, "sponsored": sponsored}
    return _update(organization, {k: bool(v) for k, v in given.items() if v is not None})
