from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from django.db import connection

from tests.webhooks.receiver import Receiver


@pytest.fixture
def receiver():
    instance = Receiver()
    yield instance
    instance.close()


@pytest.fixture
def allow_loopback(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    return settings


def standard_webhooks_verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """An implementation of the Standard Webhooks check written from the spec, not from our code."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    content = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    offered = [sig.split(",", 1)[1] for sig in headers["webhook-signature"].split() if "," in sig]
    return any(hmac.compare_digest(expected, candidate) for candidate in offered)


def celery_producer_reset() -> None:
    """Drop this process's broker connections so the next publish uses the current settings."""
    from kombu import pools

    from config.celery import app

    pools.reset()  # kombu's process-wide connection and producer pools, keyed by broker URL
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture(scope="module")
def database_url(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        params = connection.settings_dict
    if connection.vendor != "postgresql":
        pytest.skip("a worker process cannot share SQLite's in-memory test database")
    host, port = params.get("HOST") or "127.0.0.1", params.get("PORT") or 5432
    auth = params["USER"] + (f":{params['PASSWORD']}" if params.get("PASSWORD") else "")
    return f"postgres://{auth}@{host}:{port}/{params['NAME']}"


@pytest.fixture
def use_broker(settings):
    """Point this process's Celery producer at a broker (Celery reads Django settings live)."""

    def point(url: str) -> None:
        settings.CELERY_TASK_ALWAYS_EAGER = False
        settings.CELERY_BROKER_URL = url
        celery_producer_reset()

    yield point
    celery_producer_reset()
