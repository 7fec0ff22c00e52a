"""Forms for accounts, organizations and access tokens."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, BaseUserCreationForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hub.credentials import TooManyAttempts, client_ip, password_check
from hub.models import AccessToken, Collaborator, Membership
from hub.names import validate_namespace_name
from hub.reserved_names import namespace_name_check
from hub.services.mail import SEND_ERRORS, logger


def validation_errors_to_form(form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: per field where the form has that field."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


class SignUpForm(BaseUserCreationForm):
    email = forms.EmailField(label=_("Email"), required=True)

    class Meta:
        model = get_user_model()
        fields = ("username", "email")

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        try:
            namespace_name_check(username)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["name"]) from exc
        return username

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise ValidationError(_("A user with that e-mail address already exists."))
        return email


class EmailChangeForm(forms.Form):
    """A new address for the signed-in user; the current password guards account takeover."""

    email = forms.EmailField(label=_("New e-mail address"))
    password = forms.CharField(label=_("Current password"), widget=forms.PasswordInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise ValidationError(_("That is not your current password."))
        return password


class ResetPasswordForm(PasswordResetForm):
    """Django's reset form; a mail server that refuses is logged, and the page answers as
    always (an error only for existing accounts would tell which addresses have one)."""

    def send_mail(self, *args, **kwargs) -> None:
        try:
            super().send_mail(*args, **kwargs)
        except SEND_ERRORS as exc:
            logger.warning("Password reset mail not sent: %s: %s", type(exc).__name__, exc)


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's sign-in form, with failures throttled per account and per client address."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": _("Too many failed sign-ins. Wait a minute and try again."),
    }

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            try:
                self.user_cache = password_check(
                    username=username,
                    password=password,
                    client_ip=client_ip(self.request) if self.request else "unknown",
                    request=self.request,
                )
            except TooManyAttempts as exc:
                raise ValidationError(self.error_messages["throttled"], code="throttled") from exc
            if self.user_cache is None:
                refusal = getattr(self.request, "directory_refusal", None)
                if refusal:
                    raise ValidationError(refusal, code="directory_refusal")
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class ThrottledAdminAuthenticationForm(ThrottledAuthenticationForm, AdminAuthenticationForm):
    """The admin site's sign-in (staff only), throttled like the portal's."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "throttled": ThrottledAuthenticationForm.error_messages["throttled"],
    }


EXPIRY_CHOICES = [
    ("30", _("30 days")),
    ("90", _("90 days")),
    ("365", _("1 year")),
    ("", _("No expiry")),
]


class AccessTokenForm(forms.Form):
    label = forms.CharField(
        label=_("Label"), max_length=100, help_text=_("What the token is for, e.g. “CI”.")
    )
    # The levels contain each other (read ⊂ write ⊂ delete ⊂ admin): one choice, not checkboxes.
    scopes = forms.ChoiceField(
        label=_("Scope"),
        choices=AccessToken.Scope.choices,
        widget=forms.RadioSelect,
        initial=AccessToken.Scope.READ,
        help_text=_("Each level includes the ones above it."),
    )
    expires_in_days = forms.ChoiceField(
        label=_("Expires"), choices=EXPIRY_CHOICES, required=False, initial="90"
    )

    def clean_scopes(self) -> list[str]:
        return [self.cleaned_data["scopes"]]

    def expires_at(self):
        days = self.cleaned_data.get("expires_in_days")
        return timezone.now() + timedelta(days=int(days)) if days else None


class OrganizationForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=64,
        validators=[validate_namespace_name],
        help_text=_("Also the namespace: <name>/<repository>."),
    )
    display_name = forms.CharField(label=_("Display name"), max_length=100, required=False)


class MembershipAddForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=64)
    role = forms.ChoiceField(
        label=_("Role"), choices=Membership.Role.choices, initial=Membership.Role.MEMBER
    )


class InvitationForm(forms.Form):
    """Invite by e-mail (`send`) or create a one-time link to hand over (`link`)."""

    email = forms.EmailField(
        label=_("E-mail"),
        required=False,
        help_text=_("Needed to send the invitation; optional for a one-time link."),
    )
    role = forms.ChoiceField(
        label=_("Role"), choices=Membership.Role.choices, initial=Membership.Role.MEMBER
    )

    def __init__(self, *args, send: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.send = send

    def clean(self):
        cleaned = super().clean()
        if self.send and not cleaned.get("email") and "email" not in self.errors:
            self.add_error("email", _("Give an address to send the invitation to."))
        return cleaned


class MembershipRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)


class TeamForm(forms.Form):
    name = forms.CharField(
        label=_("Team name"),
        max_length=64,
        help_text=_("Lowercase letters and digits, separated by '.', '_' or '-'."),
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)


class TeamMemberAddForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=64)


class TeamGrantForm(forms.Form):
    """Grant a team a role on one of the organization's repositories."""

    repository = forms.ChoiceField(label=_("Repository"))
    role = forms.ChoiceField(label=_("Role"), choices=Collaborator.Role.choices, initial="read")

    def __init__(self, *args, repositories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["repository"].choices = [(r.name, r.name) for r in repositories]
