"""Outage with real services: a worker SIGKILLed mid-delivery still delivers.

The test runs its own worker, and no other worker may share the database meanwhile: its sweep
would deliver what the test leaves pending. (The broker stopped during a real push is in
tests/e2e/test_webhooks.py, with a redis-server of its own.)
"""

from __future__ import annotations

import signal

import pytest

from tests.webhooks.processes import (
    REDIS_URL,
    Worker,
    hook_create,
    push,
    redis_up,
    wait_status,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_worker_killed_mid_delivery_still_delivers(
    tmp_path, database_url, use_broker, public_repo, alice, receiver, allow_loopback
):
    if not redis_up(REDIS_URL):
        pytest.skip(f"no Redis at {REDIS_URL}")
    broker = REDIS_URL.rsplit("/", 1)[0] + "/12"
    import redis

    redis.Redis.from_url(broker).flushdb()
    use_broker(broker)
    first = Worker(tmp_path, database_url=database_url, broker_url=broker).start()
    second = None
    try:
        hook_create(public_repo, alice, receiver.url)
        receiver.delays = [1.5]  # the first request hangs while we kill the worker
        event = push(public_repo, alice)
        receiver.wait_for(1)
        first.kill(signal.SIGKILL)
        second = Worker(tmp_path, database_url=database_url, broker_url=broker).start()
        # The lease (2 × timeout + 5 s) runs out, the sweep re-queues, the new worker delivers.
        requests = receiver.wait_for(2, timeout=40)
        [delivery] = wait_status({"event": event}, "delivered", timeout=20)
        assert requests[0].headers["webhook-id"] == requests[1].headers["webhook-id"]
        assert delivery.attempts == 2
    finally:
        first.kill()
        if second:
            second.kill(signal.SIGTERM)
        redis.Redis.from_url(broker).flushdb()
