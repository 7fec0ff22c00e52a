"""Real services: a Celery worker process on Redis, a loopback HTTP receiver, the shared database.

The worker reads the test database (PostgreSQL: the test run's `test_…` database), so these tests
use transactional_db and skip on SQLite's in-memory test database (the embedded default is covered
end to end by tests/e2e/test_webhooks.py). Redis DB 11 on the machine's Redis is ours; the
broker-outage test starts its own redis-server, since the machine's Redis is shared.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection, transaction

from tests.e2e.server import free_port
from tests.webhooks.conftest import celery_producer_reset, standard_webhooks_verify
from tests.webhooks.receiver import Receiver
from webhooks import services
from webhooks.models import Delivery, Event

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_WEBHOOK_REDIS_URL", "redis://127.0.0.1:6379/11")

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _redis_up(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="module")
def database_url(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        params = connection.settings_dict
    if connection.vendor != "postgresql":
        pytest.skip("a worker process cannot share SQLite's in-memory test database")
    host, port = params.get("HOST") or "127.0.0.1", params.get("PORT") or 5432
    auth = params["USER"] + (f":{params['PASSWORD']}" if params.get("PASSWORD") else "")
    return f"postgres://{auth}@{host}:{port}/{params['NAME']}"


class Worker:
    """`celery worker -B` as scripts/run.sh starts it, with short webhook timings."""

    def __init__(self, tmp: Path, *, database_url: str, broker_url: str, **env):
        self.log_path = tmp / f"worker-{uuid.uuid4().hex[:6]}.log"
        self.env = {
            **os.environ,
            "DATA_DIR": str(tmp),
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": broker_url,
            "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
            "WEBHOOK_RETRY_BACKOFF_SECONDS": "1",
            "WEBHOOK_MAX_ATTEMPTS": "3",
            "WEBHOOK_TIMEOUT_SECONDS": "2",
            "WEBHOOK_SWEEP_SECONDS": "2",
            **env,
        }
        for key in ("PYTEST_CURRENT_TEST", "CELERY_TASK_ALWAYS_EAGER", "REDIS_URL"):
            self.env.pop(key, None)
        self.process: subprocess.Popen | None = None

    def start(self) -> Worker:
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/celery"),
                "-A",
                "config",
                "worker",
                "-B",
                "--loglevel",
                "info",
                "--concurrency",
                "2",
                "--hostname",
                f"wh-{uuid.uuid4().hex[:8]}@%h",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while " ready." not in self.log():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("worker did not start:\n" + self.log()[-3000:])
            time.sleep(0.2)
        return self

    def kill(self, sig=signal.SIGKILL) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture
def use_broker(settings):
    """Point this process's Celery producer at a broker (Celery reads Django settings live)."""

    def point(url: str) -> None:
        settings.CELERY_TASK_ALWAYS_EAGER = False
        settings.CELERY_BROKER_URL = url
        celery_producer_reset()

    yield point
    celery_producer_reset()


@pytest.fixture(scope="module")
def worker(tmp_path_factory, database_url):
    if not _redis_up(REDIS_URL):
        pytest.skip(f"no Redis at {REDIS_URL}")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    instance = Worker(
        tmp_path_factory.mktemp("worker"), database_url=database_url, broker_url=REDIS_URL
    ).start()
    yield instance
    instance.kill(signal.SIGTERM)


@pytest.fixture
def receiver():
    instance = Receiver()
    yield instance
    instance.close()


def _hook(repo, actor, url, **kwargs):
    return services.webhook_create(repository=repo, actor=actor, name="ci", url=url, **kwargs)


def _push(repo, actor, tag="latest"):
    with transaction.atomic():
        return services.event_publish(
            action="push",
            repository=repo,
            actor=actor,
            data={"tag": tag, "digest": "sha256:" + "c" * 64, "media_type": "application/json"},
        )


def _wait_status(delivery_filter, status, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        deliveries = list(Delivery.objects.filter(**delivery_filter))
        if deliveries and all(d.status == status for d in deliveries):
            return deliveries
        time.sleep(0.2)
    raise AssertionError(
        f"deliveries not {status}: {list(Delivery.objects.filter(**delivery_filter).values())}"
    )


def test_push_gives_one_signed_delivery_per_hook(
    worker, use_broker, public_repo, alice, receiver, allow_loopback
):
    use_broker(REDIS_URL)
    other = Receiver()
    try:
        first = _hook(public_repo, alice, receiver.url)
        second = _hook(public_repo, alice, other.url, payload_format="cloudevents")
        event = _push(public_repo, alice)
        [request] = receiver.wait_for(1)
        [cloud] = other.wait_for(1)
        _wait_status({"event": event}, "delivered")
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
    hook = _hook(public_repo, alice, receiver.url)
    receiver.statuses = [500, 500]
    event = _push(public_repo, alice)
    requests = receiver.wait_for(3, timeout=30)
    [delivery] = _wait_status({"event": event}, "delivered")
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
        hook = _hook(public_repo, alice, f"http://127.0.0.1:{silent.getsockname()[1]}/")
        event = _push(public_repo, alice)
        [delivery] = _wait_status({"event": event}, "failed", timeout=40)
        assert delivery.attempts == 3
        errors = [a.error for a in delivery.attempt_log.all()]
        assert len(errors) == 3 and all("timed out" in e for e in errors), errors
    finally:
        silent.close()
    services.webhook_update(webhook=hook, url=receiver.url)
    with transaction.atomic():
        again = services.delivery_redeliver(delivery=delivery)
    [request] = receiver.wait_for(1)
    _wait_status({"pk": again.pk}, "delivered")
    assert json.loads(request.body)["push_data"]["tag"] == "latest"


def test_worker_killed_mid_delivery_still_delivers(
    tmp_path, database_url, use_broker, public_repo, alice, receiver, allow_loopback
):
    if not _redis_up(REDIS_URL):
        pytest.skip(f"no Redis at {REDIS_URL}")
    broker = REDIS_URL.rsplit("/", 1)[0] + "/12"
    import redis

    redis.Redis.from_url(broker).flushdb()
    use_broker(broker)
    first = Worker(tmp_path, database_url=database_url, broker_url=broker).start()
    second = None
    try:
        _hook(public_repo, alice, receiver.url)
        receiver.delays = [1.5]  # the first request hangs while we kill the worker
        event = _push(public_repo, alice)
        receiver.wait_for(1)
        first.kill(signal.SIGKILL)
        second = Worker(tmp_path, database_url=database_url, broker_url=broker).start()
        # The lease (2 × timeout + 5 s) runs out, the sweep re-queues, the new worker delivers.
        requests = receiver.wait_for(2, timeout=40)
        [delivery] = _wait_status({"event": event}, "delivered", timeout=20)
        assert requests[0].headers["webhook-id"] == requests[1].headers["webhook-id"]
        assert delivery.attempts == 2
    finally:
        first.kill()
        if second:
            second.kill(signal.SIGTERM)


class RedisServer:
    """Our own throwaway redis-server, so stopping it harms nobody."""

    def __init__(self, port: int):
        self.port = port
        self.process: subprocess.Popen | None = None

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not _redis_up(self.url):
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.1)
        return self

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server")
def test_broker_down_during_push_delivers_once_it_is_back(
    tmp_path, database_url, use_broker, public_repo, alice, receiver, allow_loopback
):
    own = RedisServer(free_port()).start()
    worker = Worker(tmp_path, database_url=database_url, broker_url=own.url).start()
    try:
        use_broker(own.url)
        _hook(public_repo, alice, receiver.url)
        own.stop()
        event = _push(public_repo, alice)  # the push's transaction commits regardless
        assert Event.objects.filter(pk=event.pk).exists()
        [delivery] = Delivery.objects.filter(event=event)
        assert delivery.status == "pending" and receiver.requests == []
        own.start()
        [request] = receiver.wait_for(1, timeout=60)
        _wait_status({"event": event}, "delivered")
        assert request.headers["webhook-id"] == services.message_id(delivery)
    finally:
        worker.kill(signal.SIGTERM)
        own.stop()
