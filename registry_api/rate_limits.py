"""Pull rate limits as Docker Hub has them: manifest GETs per fixed window, per anonymous
address (an IPv6 client by its /64) or per account, answered with `ratelimit-limit`,
`ratelimit-remaining` and `docker-ratelimit-source`, and 429 TOOMANYREQUESTS past the limit.

Every GET counts, found or not (as on Docker Hub, a GET is a pull attempt); HEAD only reads the
count, so `docker pull` of an image already present costs nothing. With REDIS_URL the counter
is Redis (one atomic INCR + EXPIRE per GET, shared by every host); otherwise a database row
(registry_api.models.PullCount), atomic across the embedded default's processes. If the
counter cannot be reached the pull is served: a limit is no reason to lose availability.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F

from hub.credentials import client_ip
from registry_api.errors import TooManyRequests

logger = logging.getLogger(__name__)

# INCR then, for the window's first pull, EXPIRE: one round trip, atomic on the server.
_INCREMENT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""
# Whether an account is exempt is read once a minute, not once per pull.
_EXEMPT_SECONDS = 60


@dataclass(frozen=True)
class Quota:
    limit: int
    window: int  # seconds
    source: str  # the address or account counted
    count: int  # pulls in this window, this one included for a GET

    @property
    def remaining(self) -> int:
        return max(self.limit - self.count, 0)

    def headers(self) -> dict[str, str]:
        return {
            "ratelimit-limit": f"{self.limit};w={self.window}",
            "ratelimit-remaining": f"{self.remaining};w={self.window}",
            "docker-ratelimit-source": self.source,
        }


def _address_source(address: str) -> str:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6:
        if parsed.ipv4_mapped is not None:  # ::ffff:a.b.c.d is the IPv4 client a.b.c.d
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _account(ctx) -> str:
    """The signed-in account's name ("" for an anonymous caller), without loading the user."""
    if ctx.claims is not None:
        return ctx.claims.get("sub") or ""
    return ctx.user.get_username() if getattr(ctx.user, "is_authenticated", False) else ""


def _exempt(username: str) -> bool:
    key = f"pull-rate-exempt:{username}"
    cached = cache.get(key)
    if cached is None:
        cached = _exempt_read(username)
        cache.set(key, cached, _EXEMPT_SECONDS)
    return cached


def _exempt_read(username: str) -> bool:
    from hub.models import Membership, Organization, User

    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        return False
    if user.is_superuser:
        return True
    robot = getattr(user, "robot", None)
    if robot is not None:
        if robot.pull_rate_limit_exempt:
            return True
        return Organization.objects.filter(
            name=robot.namespace.name, pull_rate_limit_exempt=True
        ).exists()
    return Membership.objects.filter(user=user, organization__pull_rate_limit_exempt=True).exists()


def _count(key: str, window: int, *, increment: bool) -> int:
    start = int(time.time()) // window * window
    if settings.REDIS_URL:
        return _redis_count(f"pull-rate:{key}:{start}", window, increment=increment)
    return _database_count(key, start, increment=increment)


def _redis_client():
    import redis

    global _client
    if _client is None:
        _client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5
        )
    return _client


_client = None


def _redis_count(key: str, window: int, *, increment: bool) -> int:
    client = _redis_client()
    if increment:
        return int(client.eval(_INCREMENT, 1, key, window))
    return int(client.get(key) or 0)


def _database_count(key: str, start: int, *, increment: bool) -> int:
    from registry_api.models import PullCount

    rows = PullCount.objects.filter(key=key, window_start=start)
    if not increment:
        return rows.values_list("count", flat=True).first() or 0
    with transaction.atomic():
        if rows.update(count=F("count") + 1):
            return rows.values_list("count", flat=True).first() or 0
        try:
            with transaction.atomic():
                PullCount.objects.create(key=key, window_start=start, count=1)
        except IntegrityError:  # another process made the window's row first
            rows.update(count=F("count") + 1)
        else:
            # A new window for this key: its earlier windows are dead. Deleting here, once per
            # window, keeps the counted GET at one UPDATE.
            PullCount.objects.filter(key=key, window_start__lt=start).delete()
        return rows.values_list("count", flat=True).first() or 0


def pull_quota(request, ctx) -> Quota | None:
    """Count this manifest request (GETs only) against the caller's limit, and return where it
    stands; None when no limit applies. Raises TooManyRequests past the limit."""
    account = _account(ctx)
    rate = settings.PULL_RATE_LIMIT_AUTHENTICATED if account else settings.PULL_RATE_LIMIT_ANONYMOUS
    if rate is None or (account and _exempt(account)):
        return None
    limit, window = rate
    source = account or _address_source(client_ip(request))
    kind = "authenticated" if account else "anonymous"
    try:
        count = _count(f"{kind}:{source}", window, increment=request.method == "GET")
    except Exception as exc:  # Redis down or the database busy: serve the pull
        logger.warning("pull rate limit not counted (%s): %s", type(exc).__name__, exc)
        return None
    quota = Quota(limit=limit, window=window, source=source, count=count)
    if request.method == "GET" and count > limit:
        _hit(f"pull_{kind}")
        retry = window - int(time.time()) % window
        raise TooManyRequests(
            {"limit": limit, "window": window},
            message=(
                f"You have reached your pull rate limit of {limit} pulls per {window} seconds"
                + ("." if account else "; sign in for a separate limit.")
            ),
            headers={**quota.headers(), "Retry-After": str(retry)},
        )
    return quota


def _hit(kind: str) -> None:
    from config.metrics import rate_limit_hit

    rate_limit_hit(kind)
