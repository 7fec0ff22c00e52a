"""Changing a user's e-mail address: the new one is pending until a mailed link confirms it."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from hub.models import EmailChange
from hub.services.mail import mail_send
from hub.site_url import site_url

SALT = "hub.email-change"


def _taken_check(*, user, email: str) -> None:
    others = get_user_model().objects.filter(email__iexact=email).exclude(pk=user.pk)
    if others.exists():
        raise ValidationError({"email": _("A user with that e-mail address already exists.")})


def email_change_request(*, user, email: str) -> EmailChange:
    """Store `email` as the user's pending address and mail it a signed, expiring link
    (MailNotSent if the mail server will not take it; the request then stays pending)."""
    email = get_user_model().objects.normalize_email((email or "").strip())
    if email.lower() == (user.email or "").lower():
        raise ValidationError({"email": _("This is already your address.")})
    _taken_check(user=user, email=email)
    change, _created = EmailChange.objects.update_or_create(user=user, defaults={"email": email})
    token = signing.dumps({"u": user.pk, "e": email}, salt=SALT)
    context = {
        "user": user,
        "email": email,
        "url": site_url() + reverse("accounts:email-confirm", args=[token]),
        "site_name": settings.SITE_NAME,
        "hours": max(1, settings.EMAIL_CONFIRM_TTL_SECONDS // 3600),
    }
    mail_send(template="registration/email_change", context=context, to=email)
    return change


@transaction.atomic
def email_change_confirm(*, token: str):
    """Make the pending address the user's; return the user. The link works once, for the
    latest request only, until EMAIL_CONFIRM_TTL_SECONDS after it was sent."""
    invalid = ValidationError(_("This link is invalid: it expired, was used, or was replaced."))
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.EMAIL_CONFIRM_TTL_SECONDS)
    except signing.BadSignature as exc:  # includes SignatureExpired
        raise invalid from exc
    change = (
        EmailChange.objects.select_for_update()
        .select_related("user")
        .filter(user_id=data.get("u"), email=data.get("e"))
        .first()
    )
    if change is None or not change.user.is_active:
        raise invalid
    user = change.user
    _taken_check(user=user, email=change.email)
    user.email = change.email
    try:
        with transaction.atomic():
            user.save(update_fields=["email"])
    except IntegrityError as exc:  # claimed by another account in the meantime
        raise ValidationError(
            {"email": _("A user with that e-mail address already exists.")}
        ) from exc
    change.delete()
    return user


def email_change_cancel(*, user) -> None:
    EmailChange.objects.filter(user=user).delete()
