"""Personal access tokens: created with a one-time secret, stored only as a hash, revocable."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from hub import grant_versions
from hub.audit import audit_record
from hub.credentials import token_hash, token_secret_new
from hub.models import AccessToken

VALID_SCOPES = tuple(AccessToken.Scope.values)


def access_token_create(
    *, user, label: str, scopes: list[str], expires_at=None
) -> tuple[AccessToken, str]:
    """Create a token; return it and its secret, which is never stored and shown only once."""
    label = (label or "").strip()
    if not label:
        raise ValidationError({"label": _("Give the token a label.")})
    scopes = list(dict.fromkeys(scopes or []))
    if not scopes:
        raise ValidationError({"scopes": _("Choose at least one scope.")})
    unknown = [scope for scope in scopes if scope not in VALID_SCOPES]
    if unknown:
        raise ValidationError(
            {
                "scopes": _("Unknown scope(s): %(unknown)s. Use %(valid)s.")
                % {"unknown": ", ".join(map(str, unknown)), "valid": ", ".join(VALID_SCOPES)}
            }
        )
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": _("The expiry must be in the future.")})
    secret = token_secret_new()
    token = AccessToken(
        user=user,
        label=label,
        token_prefix=secret[:12],
        token_hash=token_hash(secret),
        scopes=scopes,
        expires_at=expires_at,
    )
    token.full_clean()
    token.save()
    audit_record(
        action="token.create",
        actor=user,
        target=f"{user.username}#{token.token_prefix}",
        data={"label": label, "scopes": scopes},
    )
    return token, secret


def access_token_revoke(*, token: AccessToken) -> None:
    """Revoke a token; it stops working at once. Revoking twice keeps the first time."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        grant_versions.user_changed(token.user_id)
        audit_record(
            action="token.revoke",
            target=f"{token.user.username}#{token.token_prefix}",
            namespace=token.user.username,
            data={"label": token.label},
        )
