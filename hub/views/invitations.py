"""The invitation link: create an account through it, or accept it into a signed-in account."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from hub.forms import SignUpForm, validation_errors_to_form
from hub.services.invitations import (
    GONE_MESSAGES,
    InvitationGone,
    invitation_accept,
    invitation_creates_accounts,
    invitation_from_token,
    invitation_signup,
)


def _unusable(request, message: str, status: int):
    context = {"message": message}
    return render(request, "registration/invitation_unusable.html", context, status=status)


def _joined(request, invitation, user):
    if invitation.organization_id is None:
        messages.success(request, _("Welcome to Dockyard, %(name)s.") % {"name": user.username})
        return redirect("hub:profile", user.username)
    messages.success(
        request,
        _("You are now a member of %(organization)s.")
        % {"organization": invitation.organization.name},
    )
    return redirect("accounts:org-members", namespace=invitation.organization.name)


def invite(request, token: str):
    invitation = invitation_from_token(token)
    if invitation is None:
        message = _("This invitation link is not valid. Check that you copied all of it.")
        return _unusable(request, message, 404)
    if invitation.status != "pending":
        return _unusable(request, GONE_MESSAGES[invitation.status], 410)
    if request.user.is_authenticated:
        return _accept_signed_in(request, invitation)
    if not invitation_creates_accounts(invitation):
        if invitation.organization_id is None:
            return _unusable(request, _("Sign-up is closed: ask an administrator."), 403)
        context = {"invitation": invitation}
        return render(request, "registration/invitation_sign_in.html", context, status=403)
    form = SignUpForm(request.POST or None, initial={"email": invitation.email})
    if request.method == "POST" and form.is_valid():
        try:
            user = invitation_signup(
                invitation=invitation,
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
            )
        except InvitationGone as exc:
            return _unusable(request, exc.messages[0], 410)
        except ValidationError as exc:
            validation_errors_to_form(form, exc)
        else:
            login(request, user, backend="hub.local_backend.LocalBackend")
            return _joined(request, invitation, user)
    context = {"form": form, "invitation": invitation}
    status = 400 if form.errors else 200
    return render(request, "registration/invitation_signup.html", context, status=status)


def _accept_signed_in(request, invitation):
    if invitation.organization_id is None:
        message = _(
            "This invitation creates a new account, and you are signed in as %(name)s. "
            "Sign out first to use it."
        ) % {"name": request.user.username}
        return _unusable(request, message, 409)
    if request.method == "POST":
        try:
            invitation_accept(invitation=invitation, user=request.user)
        except InvitationGone as exc:
            return _unusable(request, exc.messages[0], 410)
        return _joined(request, invitation, request.user)
    return render(request, "registration/invitation_accept.html", {"invitation": invitation})
