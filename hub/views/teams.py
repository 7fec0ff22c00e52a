"""Teams pages: members of an organization see its teams; owners create and delete them, add
and remove their members and grant them repositories."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hub import permissions, selectors
from hub.forms import TeamForm, TeamGrantForm, TeamMemberAddForm, validation_errors_to_form
from hub.names import PATH_COMPONENT_RE
from hub.selectors_accounts import team_get, team_grant_list, team_list, team_member_list
from hub.services import teams
from hub.views.organizations import _errors_to_messages, _organization_namespace


def _member_namespace(request, namespace: str):
    """The organization's namespace and whether the caller manages it; members only."""
    space = _organization_namespace(namespace)
    if permissions.namespace_role(request.user, space) is None:
        raise PermissionDenied
    return space, permissions.can_manage_organization(request.user, space)


def _team(space, name: str):
    team = team_get(organization=space.organization, name=name)
    if team is None:
        raise Http404
    return team


def _owner_team(request, namespace: str, name: str):
    space, can_manage = _member_namespace(request, namespace)
    if not can_manage:
        raise PermissionDenied
    return space, _team(space, name)


@login_required
def team_index(request, namespace: str):
    space, can_manage = _member_namespace(request, namespace)
    form = TeamForm(request.POST or None)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if form.is_valid():
            try:
                team = teams.team_create(organization=space.organization, **form.cleaned_data)
            except ValidationError as exc:
                validation_errors_to_form(form, exc)
            else:
                messages.success(request, _("Team %(name)s created.") % {"name": team.name})
                return redirect("accounts:org-team", namespace=namespace, team=team.name)
    context = {
        "organization": space.organization,
        "teams": team_list(organization=space.organization),
        "can_manage": can_manage,
        "form": form,
    }
    return render(request, "hub/org/teams.html", context, status=400 if form.errors else 200)


@login_required
def team_detail(request, namespace: str, team: str):
    space, can_manage = _member_namespace(request, namespace)
    found = _team(space, team)
    repositories = selectors.repository_list_visible(user=request.user).filter(namespace=space)
    context = {
        "organization": space.organization,
        "team": found,
        "members": team_member_list(team=found),
        "grants": team_grant_list(team=found),
        "can_manage": can_manage,
        "member_form": TeamMemberAddForm(),
        "grant_form": TeamGrantForm(repositories=repositories.order_by("name")),
    }
    return render(request, "hub/org/team_detail.html", context)


@login_required
@require_POST
def team_delete(request, namespace: str, team: str):
    _space, found = _owner_team(request, namespace, team)
    teams.team_delete(team=found)
    messages.success(request, _("Team %(name)s deleted.") % {"name": found.name})
    return redirect("accounts:org-teams", namespace=namespace)


@login_required
@require_POST
def team_member_add(request, namespace: str, team: str):
    _space, found = _owner_team(request, namespace, team)
    form = TeamMemberAddForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("Enter a username."))
        membership = teams.team_member_add(team=found, username=form.cleaned_data["username"])
    except ValidationError as exc:
        _errors_to_messages(request, exc)
    else:
        messages.success(request, _("%(name)s added.") % {"name": membership.user.username})
    return redirect("accounts:org-team", namespace=namespace, team=team)


@login_required
@require_POST
def team_member_remove(request, namespace: str, team: str, username: str):
    _space, found = _owner_team(request, namespace, team)
    member = None
    if PATH_COMPONENT_RE.match(username):  # URL text that is no name names nobody
        member = team_member_list(team=found).filter(username=username).first()
    if member is None:
        raise Http404
    teams.team_member_remove(team=found, user=member)
    messages.success(request, _("%(name)s removed.") % {"name": username})
    return redirect("accounts:org-team", namespace=namespace, team=team)


@login_required
@require_POST
def team_grant(request, namespace: str, team: str):
    """Grant a repository to the team, or revoke it (`revoke`)."""
    space, found = _owner_team(request, namespace, team)
    repositories = selectors.repository_list_visible(user=request.user).filter(namespace=space)
    form = TeamGrantForm(request.POST, repositories=repositories)
    try:
        if not form.is_valid():
            raise ValidationError(_("Choose a repository and a role."))
        repository = repositories.get(name=form.cleaned_data["repository"])
        if "revoke" in request.POST:
            teams.team_repository_revoke(team=found, repository=repository)
            messages.success(request, _("%(name)s revoked.") % {"name": repository.name})
        else:
            grant = teams.team_repository_grant(
                team=found, repository=repository, role=form.cleaned_data["role"]
            )
            messages.success(
                request,
                _("The team now has %(role)s access to %(name)s.")
                % {"role": grant.get_role_display().lower(), "name": repository.name},
            )
    except ValidationError as exc:
        _errors_to_messages(request, exc)
    return redirect("accounts:org-team", namespace=namespace, team=team)
