"""Account pages: sign up (as SIGNUP allows), sign in (throttled), password reset, settings,
e-mail address changes and access tokens."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hub.forms import (
    AccessTokenForm,
    EmailChangeForm,
    ResetPasswordForm,
    SignUpForm,
    ThrottledAuthenticationForm,
    validation_errors_to_form,
)
from hub.forms_profile import ProfileForm
from hub.models import AccessToken, EmailChange
from hub.selectors_accounts import access_token_list, organization_list
from hub.services.access_tokens import access_token_create, access_token_revoke
from hub.services.email_changes import (
    email_change_cancel,
    email_change_confirm,
    email_change_request,
)
from hub.services.profiles import profile_update
from hub.site_url import site_url

JUST_CREATED_SESSION_KEY = "accounts:just-created"


class LoginView(auth_views.LoginView):
    form_class = ThrottledAuthenticationForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error("__all__", code="throttled"):
            response.status_code = 429
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset by e-mail; the link is on the configured site URL, not the request's Host."""

    form_class = ResetPasswordForm
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"

    @property
    def domain_override(self) -> str:
        return urlsplit(site_url()).netloc

    @property
    def extra_email_context(self) -> dict:
        return {"site_url": site_url(), "site_name": settings.SITE_NAME}


def signup(request):
    if request.user.is_authenticated:
        return redirect("hub:profile", request.user.username)
    if settings.SIGNUP != "open":
        # Nothing is read from a POST: with sign-up closed, no request creates an account here.
        context = {"invite_only": settings.SIGNUP == "invite"}
        return render(request, "registration/signup_closed.html", context, status=403)
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="hub.local_backend.LocalBackend")
        messages.success(request, _("Welcome to Dockyard, %(name)s.") % {"name": user.username})
        return redirect("hub:profile", user.username)
    return render(request, "registration/signup.html", {"form": form})


@login_required
def settings_index(request):
    context = {
        "organizations": organization_list(user=request.user),
        "email_change": EmailChange.objects.filter(user=request.user).first(),
    }
    return render(request, "hub/account/settings.html", context)


@login_required
def profile_edit(request):
    form = ProfileForm.for_user(request.user, request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        avatar = form.cleaned_data["avatar"]
        try:
            profile_update(
                user=request.user,
                full_name=form.cleaned_data["full_name"],
                bio=form.cleaned_data["bio"],
                links=form.link_list(),
                avatar=avatar or None,
                avatar_clear=avatar is False,  # ClearableFileInput's "clear" box
            )
        except ValidationError as exc:
            validation_errors_to_form(form, exc)
        else:
            messages.success(request, _("Your profile is saved."))
            return redirect("hub:profile", request.user.username)
    status = 400 if form.errors else 200
    return render(request, "hub/account/profile_edit.html", {"form": form}, status=status)


@login_required
def email_change(request):
    """Ask for a new address (mailed a confirmation link), or cancel the pending one."""
    if request.method == "POST" and "cancel" in request.POST:
        email_change_cancel(user=request.user)
        messages.success(request, _("The address change was cancelled."))
        return redirect("accounts:settings")
    form = EmailChangeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            change = email_change_request(user=request.user, email=form.cleaned_data["email"])
        except ValidationError as exc:
            validation_errors_to_form(form, exc)
        else:
            messages.success(
                request,
                _("We sent a link to %(email)s: your address changes once you open it.")
                % {"email": change.email},
            )
            return redirect("accounts:settings")
    status = 400 if form.errors else 200
    return render(request, "registration/email_change_form.html", {"form": form}, status=status)


def email_confirm(request, token: str):
    """The mailed link: GET shows a button (mail scanners follow links), POST confirms."""
    if request.method != "POST":
        return render(request, "registration/email_change_confirm.html", {"token": token})
    try:
        user = email_change_confirm(token=token)
    except ValidationError as exc:
        context = {"token": token, "errors": exc.messages}
        return render(request, "registration/email_change_confirm.html", context, status=400)
    messages.success(request, _("Your e-mail address is now %(email)s.") % {"email": user.email})
    return redirect("accounts:settings" if request.user == user else "login")


@login_required
def tokens(request):
    form = AccessTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            token, secret = access_token_create(
                user=request.user,
                label=form.cleaned_data["label"],
                scopes=form.cleaned_data["scopes"],
                expires_at=form.expires_at(),
            )
        except ValidationError as exc:
            validation_errors_to_form(form, exc)
        else:
            # Shown once, on the next page view, then forgotten.
            request.session[JUST_CREATED_SESSION_KEY] = {"id": token.pk, "secret": secret}
            return redirect("accounts:tokens")
    new_token = request.session.pop(JUST_CREATED_SESSION_KEY, None)
    context = {
        "form": form,
        "tokens": access_token_list(user=request.user),
        "new_token": new_token,
    }
    return render(request, "hub/account/tokens.html", context)


@login_required
@require_POST
def token_revoke(request, pk: int):
    token = get_object_or_404(AccessToken, pk=pk, user=request.user, revoked_at__isnull=True)
    access_token_revoke(token=token)
    messages.success(request, _("Token “%(label)s” revoked.") % {"label": token.label})
    return redirect("accounts:tokens")
