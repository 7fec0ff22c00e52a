"""Organizations and their members. Callers check hub.permissions.can_manage_organization."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from hub import grant_versions
from hub.audit import audit_record
from hub.models import Membership, Namespace, Organization
from hub.reserved_names import namespace_name_check

ROLES = tuple(Membership.Role.values)


def _role_check(role: str) -> None:
    if role not in ROLES:
        raise ValidationError(
            {"role": _("Role must be one of %(roles)s.") % {"roles": ", ".join(ROLES)}}
        )


@transaction.atomic
def organization_create(*, owner, name: str, display_name: str = "") -> Organization:
    """Create an organization with `owner` as its first owner; its name is a new namespace."""
    name = (name or "").strip()
    organization = Organization(name=name, display_name=display_name)
    organization.full_clean(validate_unique=False)
    namespace_name_check(name)
    try:
        with transaction.atomic():
            organization.save()
            Namespace.objects.create(
                name=name, kind=Namespace.Kind.ORGANIZATION, organization=organization
            )
    except IntegrityError as exc:
        raise ValidationError(
            {"name": _("This name is already taken by a user or organization.")}
        ) from exc
    Membership.objects.create(organization=organization, user=owner, role=Membership.Role.OWNER)
    return organization


def _owner_count(organization: Organization) -> int:
    return Membership.objects.filter(organization=organization, role=Membership.Role.OWNER).count()


@transaction.atomic
def membership_add(*, organization: Organization, username: str, role: str) -> Membership:
    """Add an existing user to the organization with a role."""
    _role_check(role)
    # Robots (`ns+name`) are nobody's member or collaborator: they hold only their own grants.
    user = (
        get_user_model()
        .objects.filter(username=username, is_active=True)
        .exclude(username__contains="+")
        .first()
    )
    if user is None:
        raise ValidationError(
            {"username": _("No user named %(username)s.") % {"username": repr(username)}}
        )
    if Membership.objects.filter(organization=organization, user=user).exists():
        raise ValidationError(
            {"username": _("%(username)s is already a member.") % {"username": username}}
        )
    grant_versions.user_changed(user.pk)
    membership = Membership.objects.create(organization=organization, user=user, role=role)
    audit_record(
        action="member.add", target=f"{organization.name}/@{username}", data={"role": role}
    )
    return membership


@transaction.atomic
def membership_update(*, membership: Membership, role: str) -> Membership:
    """Change a member's role; the last owner cannot be demoted."""
    _role_check(role)
    # Lock the organization's memberships so two demotions cannot both pass the check.
    list(Membership.objects.select_for_update().filter(organization=membership.organization_id))
    membership.refresh_from_db()
    if (
        membership.role == Membership.Role.OWNER
        and role != Membership.Role.OWNER
        and _owner_count(membership.organization) <= 1
    ):
        raise ValidationError({"role": _("An organization needs at least one owner.")})
    membership.role = role
    membership.save(update_fields=["role"])
    grant_versions.user_changed(membership.user_id)
    audit_record(
        action="member.update",
        target=f"{membership.organization.name}/@{membership.user.username}",
        data={"role": role},
    )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership) -> None:
    """Remove a member; the last owner cannot be removed."""
    list(Membership.objects.select_for_update().filter(organization=membership.organization_id))
    membership.refresh_from_db()
    if membership.role == Membership.Role.OWNER and _owner_count(membership.organization) <= 1:
        raise ValidationError({"role": _("An organization needs at least one owner.")})
    # Leaving the organization means leaving its teams (and their repository grants).
    membership.user.teams.remove(*membership.organization.teams.all())
    membership.delete()
    grant_versions.user_changed(membership.user_id)
    audit_record(
        action="member.remove",
        target=f"{membership.organization.name}/@{membership.user.username}",
    )
