"""Outages with real services: a worker SIGKILLed mid-delivery, the broker stopped during a push.

Each test runs its own worker (and, for the broker outage, its own redis-server), and no other
worker may share the database meanwhile: its sweep would deliver what these tests leave pending.
"""

from __future__ import annotations

import shutil
import signal

import pytest

from tests.e2e.server import free_port
from tests.webhooks.processes import (
    REDIS_URL,
    RedisServer,
    Worker,
    hook_create,
    push,
    redis_up,
    wait_status,
)
from webhooks import services
from webhooks.models import Delivery, Event

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


@pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server")
def test_broker_down_during_push_delivers_once_it_is_back(
    tmp_path, database_url, use_broker, public_repo, alice, receiver, allow_loopback
):
    own = RedisServer(free_port()).start()
    worker = Worker(tmp_path, database_url=database_url, broker_url=own.url).start()
    try:
        use_broker(own.url)
        hook_create(public_repo, alice, receiver.url)
        own.stop()
        event = push(public_repo, alice)  # the push's transaction commits regardless
        assert Event.objects.filter(pk=event.pk).exists()
        [delivery] = Delivery.objects.filter(event=event)
        assert delivery.status == "pending" and receiver.requests == []
        own.start()
        [request] = receiver.wait_for(1, timeout=60)
        wait_status({"event": event}, "delivered")
        assert request.headers["webhook-id"] == services.message_id(delivery)
    finally:
        worker.kill(signal.SIGTERM)
        own.stop()
