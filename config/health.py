"""Health endpoints, as Harbor and Quay expose them, for container and load-balancer checks.

`/-/healthy` answers 200 while the process serves requests. `/-/ready` answers 200 when this
process can do its work: every database reachable with its migrations applied, the blob store
and the upload-staging directory reachable, the broker (and Redis cache) reachable when one is
configured; otherwise 503 with a JSON body naming what failed. Both are anonymous (no account,
no sign-in redirect) and cheap: one query per database, one blob-store lookup, one broker ping,
each bounded by a few seconds. Failure details go to the log, not to the anonymous answer.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

# A digest no blob has: looking it up costs one stat or one HEAD and proves the store answers.
_PROBE_DIGEST = "sha256:" + "0" * 64


def _timeout() -> float:
    return float(settings.HEALTH_CHECK_TIMEOUT)


class CheckTimedOut(Exception):
    """The check did not finish within HEALTH_CHECK_TIMEOUT seconds."""


def _bounded(check: Callable[[], None], timeout: float) -> None:
    """Run check in a daemon thread; raise what it raised, or CheckTimedOut past timeout."""
    outcome: list[BaseException | None] = []

    def run():
        try:
            check()
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            outcome.append(exc)

    worker = threading.Thread(target=run, name="health-check", daemon=True)
    worker.start()
    worker.join(timeout)
    if not outcome:
        raise CheckTimedOut(f"no answer within {timeout:g} s")
    if outcome[0] is not None:
        raise outcome[0]


def _database(alias: str) -> None:
    connection = connections[alias]
    # A connection kept between requests (CONN_MAX_AGE) that died with its server is dropped
    # and opened anew (as Django's request_started does; the test client skips that). Never
    # inside a transaction, which closing would break.
    if not connection.in_atomic_block:
        connection.close_if_unusable_or_obsolete()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


class MigrationsPending(Exception):
    pass


def _migrations(alias: str) -> None:
    executor = MigrationExecutor(connections[alias])
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        raise MigrationsPending(f"{len(pending)} unapplied, e.g. {pending[0][0]}")


def _storage() -> None:
    from registry_api.storage import blobs

    blobs().exists(_PROBE_DIGEST)


class NotWritable(Exception):
    pass


def _staging() -> None:
    from registry_api.storage import staging_dir

    path = staging_dir()
    if not os.access(path, os.W_OK | os.X_OK):
        raise NotWritable(str(path))


def _redis(url: str) -> Callable[[], None]:
    def ping() -> None:
        import redis

        client = redis.Redis.from_url(
            url, socket_connect_timeout=_timeout(), socket_timeout=_timeout()
        )
        try:
            client.ping()
        finally:
            client.close()

    return ping


def _broker(url: str) -> Callable[[], None]:
    """Another kombu transport (AMQP, SQS…): one connection opened and closed."""

    def connect() -> None:
        from config.celery import app

        with app.connection_for_write(url, connect_timeout=_timeout()) as connection:
            connection.ensure_connection(max_retries=1, timeout=_timeout())

    return connect


def _is_redis(url: str) -> bool:
    return urlsplit(url).scheme in ("redis", "rediss", "unix")


def checks() -> dict[str, Callable[[], None]]:
    """What readiness needs, by name. The embedded default (filesystem broker, file cache) has
    no broker or cache to reach: its queue is a directory under DATA_DIR, like the staging."""
    result: dict[str, Callable[[], None]] = {}
    for alias in connections:
        suffix = "" if alias == "default" else f":{alias}"
        result[f"database{suffix}"] = lambda alias=alias: _database(alias)
        result[f"migrations{suffix}"] = lambda alias=alias: _migrations(alias)
    result["storage"] = _storage
    result["staging"] = _staging
    broker_url = settings.CELERY_BROKER_URL or ""
    if (
        broker_url
        and not broker_url.startswith("filesystem:")
        and not settings.CELERY_TASK_ALWAYS_EAGER
    ):
        result["broker"] = _redis(broker_url) if _is_redis(broker_url) else _broker(broker_url)
    if settings.REDIS_URL and broker_url != settings.REDIS_URL:
        result["cache"] = _redis(settings.REDIS_URL)
    return result


def readiness() -> dict[str, str]:
    """Each check's outcome: "ok", or the failure's exception class (details in the log)."""
    outcomes: dict[str, str] = {}
    for name, check in checks().items():
        if (
            name.startswith("migrations")
            and outcomes.get(name.replace("migrations", "database")) != "ok"
        ):
            outcomes[name] = "skipped"  # cannot tell without the database
            continue
        # Database checks run on this thread: Django's connections belong to their thread.
        try:
            if name.startswith(("database", "migrations")):
                check()
            else:
                _bounded(check, _timeout())
        except Exception as exc:  # noqa: BLE001 - every failure is an answer here
            logger.warning("readiness: %s failed: %s: %s", name, type(exc).__name__, exc)
            outcomes[name] = type(exc).__name__
        else:
            outcomes[name] = "ok"
    return outcomes


@require_safe
def healthy(request):
    return JsonResponse({"status": "ok"})


@require_safe
def ready(request):
    outcomes = readiness()
    failed = [name for name, outcome in outcomes.items() if outcome not in ("ok", "skipped")]
    body = {"status": "unavailable" if failed else "ok", "checks": outcomes}
    if failed:
        body["failed"] = failed
    response = JsonResponse(body, status=503 if failed else 200)
    response["Cache-Control"] = "no-store"
    return response
