from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

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
    from config.celery import app

    app.pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None
