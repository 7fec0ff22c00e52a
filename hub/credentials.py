"""Check a username and a password or access token, with throttling of failures."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.core.cache import cache
from django.db import DatabaseError, transaction
from django.utils import timezone

from hub.models import AccessToken


class TooManyAttempts(Exception):
    """Too many failed sign-ins for this account (from this address, or in all) or this address."""


class MalformedCredentials(ValueError):
    """An `Authorization: Basic` value that is not base64 of UTF-8 text."""


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


class _Attempt:
    """One password check, reserved in the failure counters before it runs.

    Counters live in fixed windows (the key names the window), so a failure never extends a
    lockout. Reserving by an atomic increment before the check means parallel requests cannot
    all pass a "below the limit?" read and then run: at most the limit of checks run per window.
    A check that succeeds gives its reservation back; a failure keeps it.
    """

    def __init__(self, username: str, client_ip: str):
        window = settings.LOGIN_FAILURE_WINDOW
        self.window_index = int(time.time()) // window
        # Hashed: a username is whatever the client sent, and cache keys must stay short and safe.
        user = hashlib.sha256(username.lower().encode(errors="replace")).hexdigest()[:32]
        address = hashlib.sha256(client_ip.encode(errors="replace")).hexdigest()[:32]
        # Per (account, address) first: a guesser elsewhere, or a colleague behind the same NAT,
        # does not lock anyone out; the account and the address have higher ceilings of their own.
        prefix = f"login-fail:{self.window_index}"
        self.counters = [
            (f"{prefix}:pair:{user}:{address}", settings.LOGIN_FAILURE_LIMIT),
            (f"{prefix}:user:{user}", settings.LOGIN_FAILURE_LIMIT_PER_ACCOUNT),
            (f"{prefix}:addr:{address}", settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS),
        ]
        self.reserved: list[str] = []

    def reserve(self) -> None:
        """Count this attempt, or raise TooManyAttempts (counting nothing) past any limit."""
        timeout = settings.LOGIN_FAILURE_WINDOW
        for key, limit in self.counters:
            cache.add(key, 0, timeout=timeout)
            try:
                count = cache.incr(key)
            except ValueError:  # expired between add and incr: the window just turned over
                cache.add(key, 0, timeout=timeout)
                count = cache.incr(key)
            self.reserved.append(key)
            if count > limit:
                self.release()
                raise TooManyAttempts

    def locked(self) -> bool:
        """Would the next reservation be refused? (A read: it reserves nothing.)"""
        counts = cache.get_many([key for key, _ in self.counters])
        return any(counts.get(key, 0) >= limit for key, limit in self.counters)

    def release(self) -> None:
        for key in self.reserved:
            with contextlib.suppress(ValueError):  # the window ended meanwhile
                cache.decr(key)
        self.reserved = []


def _remembered_key(user, password: str) -> str:
    # A keyed hash, so the cache never holds anything that checks a password offline; the
    # stored password hash is part of it, so a password change forgets earlier successes.
    message = f"{user.pk}\x00{user.password}\x00{password}".encode(errors="replace")
    digest = hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()
    return f"login-ok:{digest}"


def _password_remembered(username: str, password: str):
    """The user whose password this is, when a check succeeded within
    PASSWORD_CHECK_CACHE_SECONDS; else None.

    Argon2 costs ~100 MiB and tens of milliseconds per check; a client sending its password as
    Basic on every registry request would pay that per request. Only successes are remembered,
    and only for active users whose stored hash is unchanged.
    """
    if settings.PASSWORD_CHECK_CACHE_SECONDS <= 0:
        return None
    user_model = get_user_model()
    user = user_model._default_manager.filter(
        **{user_model.USERNAME_FIELD: username}, is_active=True
    ).first()
    backend = cache.get(_remembered_key(user, password)) if user is not None else None
    if not backend:
        return None
    user.backend = backend  # as authenticate() sets it, for a web sign-in's login()
    return user


def _password_authenticate(request, username: str, password: str):
    """authenticate(), remembering a success for PASSWORD_CHECK_CACHE_SECONDS."""
    authenticated = authenticate(request, username=username, password=password)
    ttl = settings.PASSWORD_CHECK_CACHE_SECONDS
    if authenticated is not None and ttl > 0:
        cache.set(_remembered_key(authenticated, password), authenticated.backend, timeout=ttl)
    return authenticated


def _password_check_throttled(request, username: str, password: str, client_ip: str):
    attempt = _Attempt(username, client_ip)
    # A remembered success is the right password checked moments ago, not a guess: it takes no
    # attempt slot, so parallel logins of one account never throttle each other. Not while
    # locked out, though, or guesses could go on being tested against the remembered one.
    if not attempt.locked() and (user := _password_remembered(username, password)) is not None:
        return user
    attempt.reserve()
    user = _password_authenticate(request, username, password)
    if user is not None:
        attempt.release()
    return user


def is_robot(user) -> bool:
    """A robot account (hub.models.Robot); people's usernames cannot contain `+`."""
    return user is not None and "+" in getattr(user, "username", "")


def robot_admitted(user) -> bool:
    """False for a disabled or expired robot; marks a usable one used (once a minute at most)."""
    from hub.models import Robot

    robot = Robot.objects.filter(user_id=user.pk).first()
    if robot is None or not user.is_active or robot.is_expired:
        return False
    # The cache gates the write, so a busy robot costs one UPDATE a minute, not one a request.
    if cache.add(f"robot-used:{robot.pk}", 1, timeout=60):
        Robot.objects.filter(pk=robot.pk).update(last_used_at=timezone.now())
    return True


def credentials_check(
    *, username: str, secret: str, client_ip: str, request=None
) -> Credentials | None:
    """Authenticate by password or access token. Raise TooManyAttempts when throttled.

    A valid access token is never throttled: failed passwords lock out passwords only.
    """
    if "\x00" in username or "\x00" in secret:
        # PostgreSQL refuses NUL in text; such credentials are simply wrong.
        return None
    token = access_token_lookup(secret)
    if token is not None and (token.user.get_username() == username or not username):
        return Credentials(user=token.user, scopes=tuple(token.scopes), token=token)
    user = _password_check_audited(request, username, secret, client_ip)
    if user is not None and is_robot(user) and not robot_admitted(user):
        return None
    return Credentials(user=user) if user is not None else None


def _password_check_audited(request, username: str, password: str, client_ip: str):
    """The throttled check; every failure (wrong or throttled) is audited, on every surface.

    Successes are not: a registry client authenticates every request. Sign-ins are recorded
    where a session or a registry token starts (signals.login_audit, the token service).
    """
    from hub.audit import audit_record

    try:
        user = _password_check_throttled(request, username, password, client_ip)
    except TooManyAttempts:
        _failure_record(audit_record, request, username, "throttled")
        raise
    if user is None:
        _failure_record(audit_record, request, username, "bad credentials")
    return user


def _failure_record(audit_record, request, username: str, reason: str) -> None:
    # A flood of wrong passwords must keep its 401/429 answers even where the database cannot
    # take the writes at once (SQLite's single writer): the entry is then only logged.
    try:
        with transaction.atomic():
            _failure_entry(audit_record, request, username, reason)
    except DatabaseError:
        logging.getLogger(__name__).warning(
            "sign-in failure for %r not stored in the audit log", username[:150], exc_info=True
        )


def _failure_entry(audit_record, request, username: str, reason: str) -> None:
    audit_record(
        action="login",
        actor=None,
        actor_name=username[:150],
        target=username[:150],
        namespace=username[:150],
        result="denied",
        data={"reason": reason},
        request=request,
    )


def basic_credentials(request, value: str) -> Credentials | None:
    """Check the credentials of `Authorization: Basic <value>`, for every surface that takes them.

    None when they are wrong (a value without `:` names no secret and costs no attempt);
    MalformedCredentials when the value does not decode; TooManyAttempts when throttled.
    """
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except ValueError as exc:  # binascii.Error, non-ASCII text, undecodable bytes
        raise MalformedCredentials from exc
    username, sep, secret = decoded.partition(":")
    if not sep:
        return None
    return credentials_check(
        username=username, secret=secret, client_ip=client_ip(request), request=request
    )


def password_check(*, username: str, password: str, client_ip: str, request=None):
    """Authenticate by password only (web and admin sign-in); throttled like credentials_check.

    Robots never sign in with a session: their name is refused before any check."""
    if "\x00" in username or "\x00" in password or "+" in username:
        return None
    return _password_check_audited(request, username, password, client_ip)


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
