"""Real processes for the webhook integration tests: a Celery worker and a throwaway Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db import transaction

from tests.processes import stop_group
from webhooks.models import Delivery
from webhooks.services.events import event_publish
from webhooks.services.hooks import webhook_create

ROOT = Path(__file__).resolve().parents[2]
# Our database number on the machine's shared Redis.
REDIS_URL = os.environ.get("TEST_WEBHOOK_REDIS_URL", "redis://127.0.0.1:6379/11")


def redis_up(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


class Worker:
    """`celery worker -B` as scripts/run.sh starts it, with short webhook timings."""

    def __init__(self, tmp: Path, *, database_url: str, broker_url: str, **env):
        self.log_path = tmp / f"worker-{uuid.uuid4().hex[:6]}.log"
        self.env = {
            **os.environ,
            "DATA_DIR": str(tmp),
            # Webhook secrets are encrypted at rest: the worker must hold the same key.
            "DATA_ENCRYPTION_KEY": settings.DATA_ENCRYPTION_KEY,
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
        stop_group(self.process, sig, timeout=20)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


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
        while not redis_up(self.url):
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


def hook_create(repo, actor, url, **kwargs):
    return webhook_create(repository=repo, actor=actor, name="ci", url=url, **kwargs)


def push(repo, actor, tag="latest"):
    with transaction.atomic():
        return event_publish(
            action="push",
            repository=repo,
            actor=actor,
            data={"tag": tag, "digest": "sha256:" + "c" * 64, "media_type": "application/json"},
        )


def wait_status(delivery_filter, status, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        deliveries = list(Delivery.objects.filter(**delivery_filter))
        if deliveries and all(d.status == status for d in deliveries):
            return deliveries
        time.sleep(0.2)
    raise AssertionError(
        f"deliveries not {status}: {list(Delivery.objects.filter(**delivery_filter).values())}"
    )
