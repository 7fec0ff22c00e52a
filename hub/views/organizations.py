"""Organization pages: create one, list members, and (owners only) add, change and remove them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hub import permissions, selectors
from hub.forms import (
    MembershipAddForm,
    MembershipRoleForm,
    OrganizationForm,
    validation_errors_to_form,
)
from hub.selectors_accounts import membership_get, membership_list_visible
from hub.services.organizations import (
    membership_add,
    membership_remove,
    membership_update,
    organization_create,
)


def _errors_to_messages(request, exc: ValidationError) -> None:
    for error in exc.messages:
        messages.error(request, error)


def _organization_namespace(name: str):
    namespace = selectors.namespace_get(name=name)
    if namespace is None or not namespace.is_organization:
        raise Http404
    return namespace


@login_required
def organization_new(request):
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organization = organization_create(owner=request.user, **form.cleaned_data)
        except ValidationError as exc:
            validation_errors_to_form(form, exc)
        else:
            messages.success(request, _("Organization %(name)s created.") % {"name": organization})
            return redirect("accounts:org-members", namespace=organization.name)
    return render(request, "hub/org/new.html", {"form": form})


def members(request, namespace: str):
    space = _organization_namespace(namespace)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    visible_members = membership_list_visible(viewer=request.user, namespace=space)
    if visible_members is None:
        raise Http404
    organization = space.organization
    can_manage = permissions.can_manage_organization(request.user, space)
    form = MembershipAddForm(request.POST or None)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if form.is_valid():
            try:
                membership_add(organization=organization, **form.cleaned_data)
            except ValidationError as exc:
                validation_errors_to_form(form, exc)
            else:
                messages.success(
                    request, _("%(name)s added.") % {"name": form.cleaned_data["username"]}
                )
                return redirect("accounts:org-members", namespace=namespace)
    context = {
        "organization": organization,
        "namespace": space,
        "members": visible_members,
        "can_manage": can_manage,
        "form": form,
        "roles": MembershipRoleForm.base_fields["role"].choices,
    }
    return render(request, "hub/org/members.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def member_change(request, namespace: str, username: str):
    """Change a member's role (`role`), or remove them (`remove`); members may leave."""
    space = _organization_namespace(namespace)
    membership = membership_get(organization=space.organization, username=username)
    if membership is None:
        raise Http404
    can_manage = permissions.can_manage_organization(request.user, space)
    leaving = "remove" in request.POST and membership.user_id == request.user.pk
    if not (can_manage or leaving):
        raise PermissionDenied
    try:
        if "remove" in request.POST:
            membership_remove(membership=membership)
            messages.success(request, _("%(name)s removed.") % {"name": username})
        else:
            form = MembershipRoleForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Choose a valid role."))
            membership_update(membership=membership, role=form.cleaned_data["role"])
            messages.success(
                request,
                _("%(name)s is now %(role)s.")
                % {"name": username, "role": membership.get_role_display().lower()},
            )
    except ValidationError as exc:
        _errors_to_messages(request, exc)
    if leaving and "remove" in request.POST and not can_manage:
        return redirect("hub:profile", namespace)
    return redirect("accounts:org-members", namespace=namespace)
