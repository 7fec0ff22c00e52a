"""Real services: a Celery worker process on Redis, a loopback HTTP receiver, the shared database.

The worker reads the test database (PostgreSQL: the test run's `test_…` database), so these tests
use transactional_db and skip on SQLite's in-memory test database (the embedded default is covered
end to end by tests/e2e/test_webhooks.py). Redis DB 11 on the machine's Redis is ours; the
broker-outage test starts its own redis-server, since the machine's Redis is shared.
"""

from __future__ import annotations

import json
import signal
import socket
import time
from pathlib import Path

import pytest
from django.db import transaction

from tests.webhooks.conftest import standard_webhooks_verify
from tests.webhooks.processes import REDIS_URL, Worker, hook_create, push, redis_up, wait_status
from tests.webhooks.receiver import Receiver
from webhooks.models import Delivery
from webhooks.services.hooks import webhook_update
from webhooks.services.sweep import delivery_redeliver

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def worker(tmp_path_factory, database_url):
    if not redis_up(REDIS_URL):
        pytest.skip(f"no Redis at {REDIS_URL}")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    instance = Worker(
        tmp_path_factory.mktemp("worker"), database_url=database_url, broker_url=REDIS_URL
    ).start()
    yield instance
    instance.kill(signal.SIGTERM)
    redis.Redis.from_url(REDIS_URL).flushdb()


def test_push_gives_one_signed_delivery_per_hook(
    worker, use_broker, public_repo, alice, receiver, allow_loopback
):
    use_broker(REDIS_URL)
    other = Receiver()
    try:
        first = hook_create(public_repo, alice, receiver.url)
        second = hook_create(public_repo, alice, other.url, payload_format="cloudevents")
        event = push(public_repo, alice)
        [request] = receiver.wait_for(1)
        [cloud] = other.wait_for(1)
        wait_status({"event": event}, "delivered")
        assert standard_webhooks_verify(first.secret, request.headers, request.body)
        assert standard_webhooks_verify(second.secret, cloud.headers, cloud.body)
        assert json.loads(request.body)["push_data"]["tag"] == "latest"
        assert json.loads(cloud.body)["type"] == "io.dockyard.push"
        time.sleep(1)
        assert len(receiver.requests) == len(other.requests) == 1  # exactly one each
    finally:
        other.close()


def test_retried_to_success_with_one_webhook_id(
    worker, use_broker, public_repo, alice, receiver, allow_loopback
):
    use_broker(REDIS_URL)
    hook = hook_create(public_repo, alice, receiver.url)
    receiver.statuses = [500, 500]
    event = push(public_repo, alice)
    requests = receiver.wait_for(3, timeout=30)
    [delivery] = wait_status({"event": event}, "delivered")
    assert delivery.attempts == 3
    assert [a.status_code for a in delivery.attempt_log.all()] == [500, 500, 200]
    assert len({r.headers["webhook-id"] for r in requests}) == 1
    assert all(standard_webhooks_verify(hook.secret, r.headers, r.body) for r in requests)


def test_silent_receiver_ends_failed_then_redeliver_sends_again(
    worker, use_broker, public_repo, alice, receiver, allow_loopback
):
    use_broker(REDIS_URL)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # accepts connections (kernel backlog), never answers
    try:
        hook = hook_create(public_repo, alice, f"http://127.0.0.1:{silent.getsockname()[1]}/")
        event = push(public_repo, alice)
        [delivery] = wait_status({"event": event}, "failed", timeout=40)
        assert delivery.attempts == 3
        errors = [a.error for a in delivery.attempt_log.all()]
        assert len(errors) == 3 and all("timed out" in e for e in errors), errors
    finally:
        silent.close()
    webhook_update(webhook=hook, url=receiver.url)
    with transaction.atomic():
        again = delivery_redeliver(delivery=delivery)
    [request] = receiver.wait_for(1)
    wait_status({"pk": again.pk}, "delivered")
    assert json.loads(request.body)["push_data"]["tag"] == "latest"


def test_repository_delete_reaches_the_repositorys_own_hook(
    worker, use_broker, public_repo, alice, receiver, allow_loopback
):
    from hub.services.repositories import repository_delete

    use_broker(REDIS_URL)
    hook = hook_create(public_repo, alice, receiver.url, events=["repository"])
    repository_delete(repository=public_repo, actor=alice)
    [request] = receiver.wait_for(1)
    assert request.headers["x-dockyard-event"] == "repository_delete"
    assert standard_webhooks_verify(hook.secret, request.headers, request.body)
    body = json.loads(request.body)
    assert body["action"] == "repository_delete"
    assert body["repository"]["repo_name"] == "alice/app"
    # Recorded as delivered (never retried). Once nothing is pending, the sweep may remove the
    # repository-less hook with its log, so "delivered or gone" is the outcome to wait for.
    deadline = time.monotonic() + 30
    while Delivery.objects.filter(webhook_id=hook.pk).exclude(status="delivered").exists():
        assert time.monotonic() < deadline, "the repository_delete delivery stayed undelivered"
        time.sleep(0.2)
    assert len(receiver.requests) == 1
