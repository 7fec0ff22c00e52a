"""Check a username and a password or access token, with throttling of failures."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.core.cache import cache
from django.utils import timezone

from hub.models import AccessToken


class TooManyAttempts(Exception):
    """Too many failed sign-ins for this account or client address in the last minute."""


@dataclass(frozen=True)
class Credentials:
    """An authenticated caller: the user, and the token scopes if a token was used."""

    user: object
    scopes: tuple[str, ...] | None = None
    token: AccessToken | None = None


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_secret_new() -> str:
    return AccessToken.PREFIX + secrets.token_urlsafe(32)


def access_token_lookup(secret: str) -> AccessToken | None:
    """Return the active token with this secret and mark it used, or None."""
    if not secret.startswith(AccessToken.PREFIX):
        return None
    token = AccessToken.objects.select_related("user").filter(token_hash=token_hash(secret)).first()
    if token is None or not token.is_active or not token.user.is_active:
        return None
    AccessToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token


def _failure_keys(username: str, client_ip: str) -> list[str]:
    # Hashed: a username is whatever the client sent, and cache keys must stay short and safe.
    user_key = hashlib.sha256(username.lower().encode(errors="replace")).hexdigest()[:32]
    return [f"auth-fail:user:{user_key}", f"auth-fail:ip:{client_ip}"]


def _check_throttle(username: str, client_ip: str) -> None:
    # One address may serve many people (NAT, CI runners): it gets a larger allowance.
    limits = [settings.LOGIN_FAILURES_PER_MINUTE, settings.LOGIN_FAILURES_PER_MINUTE_PER_ADDRESS]
    keys = _failure_keys(username, client_ip)
    if any((cache.get(key) or 0) >= limit for key, limit in zip(keys, limits, strict=True)):
        raise TooManyAttempts


def record_failure(username: str, client_ip: str) -> None:
    for key in _failure_keys(username, client_ip):
        if cache.add(key, 1, timeout=60):
            continue
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=60)


def credentials_check(
    *, username: str, secret: str, client_ip: str, request=None
) -> Credentials | None:
    """Authenticate by password or access token. Raise TooManyAttempts when throttled."""
    _check_throttle(username, client_ip)
    if "\x00" in username or "\x00" in secret:
        # PostgreSQL refuses NUL in text; such credentials are simply wrong.
        record_failure(username, client_ip)
        return None
    token = access_token_lookup(secret)
    if token is not None:
        if token.user.get_username() == username or not username:
            return Credentials(user=token.user, scopes=tuple(token.scopes), token=token)
    else:
        user = authenticate(request, username=username, password=secret)
        if user is not None:
            return Credentials(user=user)
    record_failure(username, client_ip)
    return None


def password_check(*, username: str, password: str, client_ip: str, request=None):
    """Authenticate by password only (web sign-in); throttled like credentials_check."""
    _check_throttle(username, client_ip)
    has_nul = "\x00" in username or "\x00" in password
    user = None if has_nul else authenticate(request, username=username, password=password)
    if user is None:
        record_failure(username, client_ip)
    return user


def client_ip(request) -> str:
    """The address failures are counted against.

    Behind a trusted proxy (BEHIND_PROXY, which sets SECURE_PROXY_SSL_HEADER) every request
    comes from the proxy; the client is the last X-Forwarded-For entry, the one the proxy added.
    Earlier entries are client-supplied and never trusted.
    """
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        if forwarded:
            return forwarded
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def user_by_name(username: str):
    return get_user_model().objects.filter(username=username, is_active=True).first()
