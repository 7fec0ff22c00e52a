"""Organization pages: create one, list members, and (owners only) add, change and remove them,
and invite people by e-mail or one-time link."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hub import permissions, selectors
from hub.forms import (
    InvitationForm,
    MembershipAddForm,
    MembershipRoleForm,
    OrganizationForm,
    validation_errors_to_form,
)
from hub.models import Invitation
from hub.selectors_accounts import membership_get, membership_list_visible
from hub.services.invitations import (
    invitation_create,
    invitation_list_pending,
    invitation_revoke,
    invitation_send,
    invitation_url,
)
from hub.services.mail import MailNotSent
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


# The one-time link of an invitation just made: shown on the next page view, then forgotten.
NEW_INVITATION_SESSION_KEY = "organizations:new-invitation"


def _managed_namespace(request, name: str):
    """The organization's namespace if the signed-in caller owns it; members get 403, others 404."""
    space = _organization_namespace(name)
    if not permissions.can_manage_organization(request.user, space):
        if permissions.namespace_role(request.user, space) is None:
            raise Http404
        raise PermissionDenied
    return space


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
    invite_form = InvitationForm()
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
    return _members_page(request, space, visible_members, can_manage, form, invite_form)


def _members_page(request, space, visible_members, can_manage, form, invite_form):
    context = {
        "organization": space.organization,
        "namespace": space,
        "members": visible_members,
        "can_manage": can_manage,
        "form": form,
        "invite_form": invite_form,
        "roles": MembershipRoleForm.base_fields["role"].choices,
        "invitations": invitation_list_pending(organization=space.organization)
        if can_manage
        else [],
        "new_invitation": request.session.pop(NEW_INVITATION_SESSION_KEY, None),
    }
    status = 400 if form.errors or invite_form.errors else 200
    return render(request, "hub/org/members.html", context, status=status)


@login_required
@require_POST
def invitation_new(request, namespace: str):
    """Invite by e-mail (`send`) or make a one-time link (shown once)."""
    space = _managed_namespace(request, namespace)
    send = "send" in request.POST
    invite_form = InvitationForm(request.POST, send=send)
    if invite_form.is_valid():
        try:
            invitation, token = invitation_create(
                created_by=request.user, organization=space.organization, **invite_form.cleaned_data
            )
        except ValidationError as exc:
            validation_errors_to_form(invite_form, exc)
        else:
            try:
                if send:
                    invitation_send(invitation=invitation, token=token)
                    messages.success(
                        request, _("Invitation sent to %(email)s.") % {"email": invitation.email}
                    )
            except MailNotSent as exc:
                messages.error(request, exc.messages[0])
                send = False  # hand the link over another way
            if not send:
                request.session[NEW_INVITATION_SESSION_KEY] = invitation_url(token)
            return redirect("accounts:org-members", namespace=namespace)
    members_list = membership_list_visible(viewer=request.user, namespace=space)
    return _members_page(request, space, members_list, True, MembershipAddForm(), invite_form)


@login_required
@require_POST
def invitation_withdraw(request, namespace: str, invitation_id):
    space = _managed_namespace(request, namespace)
    invitation = get_object_or_404(Invitation, uuid=invitation_id, organization=space.organization)
    invitation_revoke(invitation=invitation)
    messages.success(request, _("Invitation withdrawn."))
    return redirect("accounts:org-members", namespace=namespace)


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
