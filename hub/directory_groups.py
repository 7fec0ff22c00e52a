"""Directory group maps (LDAP_GROUP_MAP, OIDC_GROUP_MAP) applied to an account: one rule.

On every sign-in (and LDAP sync) the user's groups decide the admin flags and which
organization/team memberships the map grants. What a map granted is recorded as a
DirectoryGrant row, so leaving the group removes exactly that; memberships added by hand (no
row) are never removed, and a granted membership that was since promoted to owner by hand is
left in place (its row is dropped: it is the owners' now).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from config.group_map import Target
from hub import grant_versions
from hub.audit import audit_record
from hub.models import DirectoryGrant, Membership, Organization, Team
from hub.names import validate_namespace_name
from hub.reserved_names import namespace_name_check


def _wanted(targets: set[Target]) -> dict[Organization, set[Team]]:
    """Existing organizations (and teams) the targets name; unknown names are skipped."""
    wanted: dict[Organization, set[Team]] = {}
    for target in targets:
        if target.admin:
            continue
        organization = Organization.objects.filter(name=target.organization).first()
        if organization is None:
            continue
        teams = wanted.setdefault(organization, set())
        if target.team:
            team = Team.objects.filter(organization=organization, name=target.team).first()
            if team is not None:
                teams.add(team)
    return wanted


@transaction.atomic
def directory_groups_apply(*, user, groups, group_map: dict[str, Target], source: str) -> None:
    """Make `user`'s admin flags and directory-granted memberships match `groups`."""
    targets = {group_map[g.lower()] for g in groups if g.lower() in group_map}
    admin = any(t.admin for t in targets)
    if user.is_staff != admin or user.is_superuser != admin:
        user.is_staff = user.is_superuser = admin
        user.save(update_fields=["is_staff", "is_superuser"])
    wanted = _wanted(targets)
    changed = False
    for organization, teams in wanted.items():
        _, created = Membership.objects.get_or_create(organization=organization, user=user)
        if created:
            DirectoryGrant.objects.create(user=user, organization=organization, source=source)
            audit_record(action="member.add", target=f"{organization.name}/@{user.username}",
                         data={"granted_by": source}, system=True)  # fmt: skip
            changed = True
        for team in teams:
            if not team.members.filter(pk=user.pk).exists():
                team.members.add(user)
                DirectoryGrant.objects.create(
                    user=user, organization=organization, team=team, source=source
                )
                changed = True
    wanted_teams = {team.pk for teams in wanted.values() for team in teams}
    for grant in DirectoryGrant.objects.filter(user=user, source=source).select_related(
        "organization", "team"
    ):
        if grant.team_id is not None:
            if grant.team_id not in wanted_teams:
                grant.team.members.remove(user)
                grant.delete()
                changed = True
        elif grant.organization not in wanted:
            _membership_revoke(user=user, organization=grant.organization, source=source)
            grant.delete()
            changed = True
    if changed:
        grant_versions.user_changed(user.pk)


def _membership_revoke(*, user, organization: Organization, source: str) -> None:
    membership = Membership.objects.filter(organization=organization, user=user).first()
    if membership is None or membership.role == Membership.Role.OWNER:
        return
    # Leaving the organization means leaving its teams, as hub.services.organizations does.
    user.teams.remove(*organization.teams.all())
    DirectoryGrant.objects.filter(user=user, organization=organization, team__isnull=False).delete()
    membership.delete()
    audit_record(action="member.remove", target=f"{organization.name}/@{user.username}",
                 data={"granted_by": source}, system=True)  # fmt: skip


def provisioned_name_check(username: str) -> None:
    """Raise ValidationError unless a directory or IdP account may be created under `username`:
    the namespace grammar, no organization of that name, no reserved name."""
    validate_namespace_name(username)
    if Organization.objects.filter(name=username).exists():
        raise ValidationError(_("This name is already taken by a user or organization."))
    namespace_name_check(username)
