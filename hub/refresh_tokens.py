"""Refresh tokens (`offline_token=true`): signed values, no table.

A refresh token names the user and, when it came from an access token, that token. It stops
working when the user changes password, is deactivated, or the access token is revoked or
expires; when a robot expires; and after TOKEN_REFRESH_MAX_AGE.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from hub.credentials import Credentials, is_robot, robot_admitted
from hub.models import AccessToken

SALT = "dockyard.refresh-token"


def _password_fingerprint(user) -> str:
    return salted_hmac(SALT, user.password or "").hexdigest()[:16]


def refresh_token_issue(credentials: Credentials) -> str:
    payload = {
        "u": credentials.user.pk,
        "p": _password_fingerprint(credentials.user),
        "t": str(credentials.token.uuid) if credentials.token is not None else None,
    }
    return signing.dumps(payload, salt=SALT, compress=True)


def refresh_token_check(value: str) -> Credentials | None:
    """Return the credentials a refresh token stands for, or None if it no longer holds."""
    try:
        payload = signing.loads(value, salt=SALT, max_age=settings.TOKEN_REFRESH_MAX_AGE)
        user = get_user_model().objects.filter(pk=payload["u"], is_active=True).first()
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    if user is None or not constant_time_compare(str(payload["p"]), _password_fingerprint(user)):
        return None
    if is_robot(user) and not robot_admitted(user):
        return None  # an expired robot: docker keeps its refresh token after `docker login`
    if payload.get("t") is None:
        return Credentials(user=user)
    token = AccessToken.objects.filter(uuid=payload["t"], user=user).first()
    if token is None or not token.is_active:
        return None
    AccessToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return Credentials(user=user, scopes=tuple(token.scopes), token=token)
