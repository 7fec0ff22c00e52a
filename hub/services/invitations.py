"""Invitations: a one-time, expiring link that creates an account and joins an organization.

Callers check who may invite: hub.permissions.can_manage_organization for an organization's
invitations, a superuser for a site-wide one (organization=None)."""

from __future__ import annotations

import hmac
import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hub import grant_versions
from hub.audit import audit_record
from hub.credentials import token_hash
from hub.models import Invitation, Membership, Organization
from hub.services.mail import mail_send
from hub.site_url import site_url

ROLES = tuple(Membership.Role.values)
GONE_MESSAGES = {
    "used": gettext_lazy("This invitation was used already."),
    "revoked": gettext_lazy("This invitation was withdrawn."),
    "expired": gettext_lazy("This invitation has expired."),
}


class InvitationGone(ValidationError):
    """The invitation was used, revoked or expired (perhaps a moment ago, by a concurrent use)."""


def invitation_create(
    *, created_by, organization: Organization | None, email: str = "", role: str = "member"
) -> tuple[Invitation, str]:
    """Create an invitation; return it and its link token, which is never stored."""
    email = (email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError as exc:
            raise ValidationError({"email": exc.messages}) from exc
    if role not in ROLES:
        raise ValidationError(
            {"role": _("Role must be one of %(roles)s.") % {"roles": ", ".join(ROLES)}}
        )
    if organization is None and role != Membership.Role.MEMBER:
        raise ValidationError({"role": _("A site-wide invitation joins no organization.")})
    secret = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organization=organization,
        email=email,
        role=role,
        token_hash=token_hash(secret),
        created_by=created_by,
        expires_at=timezone.now() + timedelta(seconds=settings.INVITATION_TTL_SECONDS),
    )
    _invitation_audit("invitation.create", invitation, actor=created_by)
    return invitation, f"{invitation.uuid.hex}.{secret}"


def invitation_url(token: str) -> str:
    """The link to hand over or mail: on SITE_URL, never on a request's Host."""
    return site_url() + reverse("accounts:invite", args=[token])


def invitation_send(*, invitation: Invitation, token: str) -> None:
    """Mail the link to the invitation's address; raise MailNotSent if the server will not."""
    context = {
        "invitation": invitation,
        "url": invitation_url(token),
        "site_name": settings.SITE_NAME,
        "inviter": invitation.created_by.username if invitation.created_by else "",
        "days": max(1, settings.INVITATION_TTL_SECONDS // 86400),
    }
    mail_send(template="registration/invitation", context=context, to=invitation.email)


def invitation_from_token(token: str) -> Invitation | None:
    """Return the invitation this token opens (in any state), or None for a wrong token."""
    key, _sep, secret = (token or "").partition(".")
    try:
        public_id = uuid.UUID(hex=key)
    except ValueError:
        return None
    invitation = (
        Invitation.objects.select_related("organization", "created_by")
        .filter(uuid=public_id)
        .first()
    )
    if invitation is None or not hmac.compare_digest(invitation.token_hash, token_hash(secret)):
        return None
    return invitation


def _gone(invitation: Invitation) -> InvitationGone:
    return InvitationGone(GONE_MESSAGES.get(invitation.status, GONE_MESSAGES["used"]))


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user) -> Membership | None:
    """Spend the invitation for `user` and add them to its organization with its role.

    The conditional UPDATE is the single-use guarantee: of two concurrent uses, only one
    matches a still-pending row; the other raises InvitationGone (and rolls back its caller's
    transaction, e.g. the account it was creating)."""
    now = timezone.now()
    spent = Invitation.objects.filter(
        pk=invitation.pk, used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
    ).update(used_at=now, used_by=user)
    if spent != 1:
        invitation.refresh_from_db()
        raise _gone(invitation)
    invitation.used_at, invitation.used_by = now, user
    if invitation.organization_id is None:
        return None
    membership, created = Membership.objects.get_or_create(
        organization_id=invitation.organization_id, user=user, defaults={"role": invitation.role}
    )
    if not created and invitation.role == Membership.Role.OWNER:
        # An invitation never demotes; it may promote a member it was sent to as owner.
        membership.role = Membership.Role.OWNER
        membership.save(update_fields=["role"])
    grant_versions.user_changed(user.pk)
    audit_record(
        action="member.add",
        actor=user,
        target=f"{membership.organization.name}/@{user.username}",
        data={"role": membership.role, "invitation": invitation.pk},
    )
    return membership


def invitation_creates_accounts(invitation: Invitation) -> bool:
    """With SIGNUP=closed only administrators create accounts: an organization owner's
    invitation then only brings an existing account in."""
    if settings.SIGNUP != "closed":
        return True
    creator = invitation.created_by
    return creator is not None and creator.is_active and creator.has_perm("hub.add_user")


@transaction.atomic
def invitation_signup(*, invitation: Invitation, username: str, email: str, password: str):
    """Create an account through the invitation (the caller validated the fields) and spend it.

    One transaction: if the invitation was spent meanwhile, no account is left behind."""
    if not invitation_creates_accounts(invitation):
        raise ValidationError(
            _("Sign-up is closed: only an administrator's invitation creates accounts.")
        )
    try:
        with transaction.atomic():
            user = get_user_model().objects.create_user(
                username=username, email=email, password=password
            )
    except IntegrityError as exc:  # taken a moment ago, after the form checked
        raise ValidationError(
            {"username": _("This name is already taken by a user or organization.")}
        ) from exc
    invitation_accept(invitation=invitation, user=user)
    return user


def invitation_revoke(*, invitation: Invitation) -> None:
    """Withdraw a pending invitation; a used one stays as it is (its record is history)."""
    Invitation.objects.filter(pk=invitation.pk, used_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    invitation.refresh_from_db()
    _invitation_audit("invitation.revoke", invitation)


def _invitation_audit(action: str, invitation: Invitation, actor=None) -> None:
    # The link token is a secret and never recorded; the invitation's id and role are not.
    name = invitation.organization.name if invitation.organization_id else ""
    audit_record(
        action=action,
        actor=actor,
        target=f"{name}/#invitation-{invitation.pk}" if name else f"#invitation-{invitation.pk}",
        namespace=name,
        data={"role": invitation.role},
    )


def invitation_list_pending(*, organization: Organization | None):
    """Invitations not yet used, revoked or expired, newest first."""
    return Invitation.objects.filter(
        organization=organization,
        used_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).select_related("created_by")
