"""Robot accounts in an organization's settings (its owners) and in a user's settings."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hub import permissions
from hub.forms import validation_errors_to_form
from hub.forms_robots import RobotCreateForm, RobotForm
from hub.models import Namespace, Repository
from hub.selectors_robots import robot_get, robot_list
from hub.services.robots import robot_create, robot_delete, robot_rotate, robot_update
from hub.views.owned_namespaces import managed_namespace

JUST_CREATED_KEY = "robots:just-created"  # the secret, shown once on the next page, then dropped


def _namespace(request, org: str | None) -> Namespace:
    return managed_namespace(request, org, may_manage=permissions.can_manage_organization)


def _to_list(org):
    return redirect("accounts:robots") if org is None else redirect("accounts:org-robots", org)


def _to_robot(org, name):
    if org is None:
        return redirect("accounts:robot", robot=name)
    return redirect("accounts:org-robot", namespace=org, robot=name)


def _repositories(namespace):
    return Repository.objects.filter(namespace=namespace).order_by("name")


def _secret_shown(request) -> dict | None:
    return request.session.pop(JUST_CREATED_KEY, None)


@login_required
def robot_index(request, namespace: str | None = None):
    space = _namespace(request, namespace)
    form = RobotCreateForm(request.POST or None, repositories=_repositories(space))
    if request.method == "POST" and form.is_valid():
        try:
            robot, secret = robot_create(
                namespace=space,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                expires_at=form.expires_at(),
                permissions=form.permissions(),
                created_by=request.user,
                request=request,
            )
        except ValidationError as exc:
            validation_errors_to_form(form, exc)
        else:
            request.session[JUST_CREATED_KEY] = {"name": robot.user.username, "secret": secret}
            return _to_robot(namespace, robot.name)
    context = {
        "space": space,
        "org": namespace,
        "robots": robot_list(namespace=space),
        "form": form,
    }
    return render(request, "hub/robots/index.html", context, status=400 if form.errors else 200)


@login_required
def robot_detail(request, robot: str, namespace: str | None = None):
    space = _namespace(request, namespace)
    found = robot_get(namespace=space, name=robot)
    if found is None:
        raise Http404
    grants = {
        g.repository.name if g.repository_id else None: g.level for g in found.permissions.all()
    }
    form = RobotForm(
        request.POST or None,
        repositories=_repositories(space),
        grants=grants,
        initial={"description": found.description, "disabled": not found.user.is_active},
    )
    if request.method == "POST" and form.is_valid():
        fields = {
            "description": form.cleaned_data["description"],
            "disabled": form.cleaned_data["disabled"],
        }
        if (expires_at := form.expires_at()) != "keep":
            fields["expires_at"] = expires_at
        try:
            robot_update(
                robot=found,
                actor=request.user,
                request=request,
                permissions=form.permissions(),
                **fields,
            )
        except ValidationError as exc:
            validation_errors_to_form(form, exc)
        else:
            messages.success(request, _("Robot %(name)s saved.") % {"name": found.user.username})
            return _to_robot(namespace, found.name)
    shown = _secret_shown(request)
    context = {
        "space": space,
        "org": namespace,
        "robot": found,
        "form": form,
        "secret": shown["secret"] if shown and shown["name"] == found.user.username else None,
    }
    return render(request, "hub/robots/detail.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def robot_rotate_view(request, robot: str, namespace: str | None = None):
    space = _namespace(request, namespace)
    found = robot_get(namespace=space, name=robot)
    if found is None:
        raise Http404
    secret = robot_rotate(robot=found, actor=request.user, request=request)
    request.session[JUST_CREATED_KEY] = {"name": found.user.username, "secret": secret}
    return _to_robot(namespace, found.name)


@login_required
@require_POST
def robot_delete_view(request, robot: str, namespace: str | None = None):
    space = _namespace(request, namespace)
    found = robot_get(namespace=space, name=robot)
    if found is None:
        raise Http404
    name = found.user.username
    robot_delete(robot=found, actor=request.user, request=request)
    messages.success(request, _("Robot %(name)s deleted.") % {"name": name})
    return _to_list(namespace)
