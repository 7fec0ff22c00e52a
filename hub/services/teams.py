"""Teams of an organization: members and repository grants. Callers check
hub.permissions.can_manage_organization."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from hub import grant_versions
from hub.audit import audit_record
from hub.models import Collaborator, Membership, Organization, Repository, Team, TeamRepository

ROLES = tuple(Collaborator.Role.values)


def _name_taken_error() -> ValidationError:
    return ValidationError({"name": _("This organization already has a team with that name.")})


def _save(team: Team) -> Team:
    team.full_clean(exclude=["organization", "members"], validate_unique=False)
    try:
        with transaction.atomic():
            team.save()
    except IntegrityError as exc:  # team_unique_name: the name is taken in this organization
        raise _name_taken_error() from exc
    return team


def _team_audit(action: str, team: Team, suffix: str = "", data: dict | None = None) -> None:
    audit_record(
        action=action,
        target=f"{team.organization.name}/#{team.name}{suffix}",
        namespace=team.organization.name,
        data=data,
    )


def team_create(*, organization: Organization, name: str, description: str = "") -> Team:
    team = _save(
        Team(organization=organization, name=(name or "").strip(), description=description)
    )
    _team_audit("team.create", team)
    return team


def team_update(*, team: Team, name: str | None = None, description: str | None = None) -> Team:
    if name is not None:
        team.name = name.strip()
    if description is not None:
        team.description = description
    team = _save(team)
    _team_audit("team.update", team)
    return team


def team_delete(*, team: Team) -> None:
    for user_id in team.members.values_list("pk", flat=True):
        grant_versions.user_changed(user_id)
    _team_audit("team.delete", team)
    team.delete()


def team_member_add(*, team: Team, username: str) -> Membership:
    """Add a member of the team's organization to the team (adding twice is a no-op)."""
    membership = (
        Membership.objects.filter(organization=team.organization_id, user__username=username)
        .select_related("user")
        .first()
    )
    if membership is None:
        raise ValidationError(
            {
                "username": _("%(username)s is not a member of the organization.")
                % {"username": repr(username)}
            }
        )
    team.members.add(membership.user)
    grant_versions.user_changed(membership.user_id)
    _team_audit("team.member.add", team, f"/@{membership.user.username}")
    return membership


def team_member_remove(*, team: Team, user) -> None:
    team.members.remove(user)
    grant_versions.user_changed(user.pk)
    _team_audit("team.member.remove", team, f"/@{user.username}")


def team_repository_grant(*, team: Team, repository: Repository, role: str) -> TeamRepository:
    """Give the team `role` on a repository of its organization (or change the role)."""
    if role not in ROLES:
        raise ValidationError(
            {"role": _("Role must be one of %(roles)s.") % {"roles": ", ".join(ROLES)}}
        )
    if repository.namespace.organization_id != team.organization_id:
        raise ValidationError(
            {"repository": _("Teams are granted repositories of their own organization only.")}
        )
    grant, _created = TeamRepository.objects.update_or_create(
        team=team, repository=repository, defaults={"role": role}
    )
    grant_versions.repository_changed(repository)
    _team_audit("team.repository.grant", team, f"/{repository.name}", {"role": role})
    return grant


def team_repository_revoke(*, team: Team, repository: Repository) -> None:
    TeamRepository.objects.filter(team=team, repository=repository).delete()
    grant_versions.repository_changed(repository)
    _team_audit("team.repository.revoke", team, f"/{repository.name}")
