"""The blob fetches' single-flight lock: a dead or wedged holder never blocks the cache."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time

import pytest

from registry_api.proxy.fetch_locks import (
    fetch_dir,
    fetch_lock_take,
    fetch_locks_sweep,
    fetch_paths,
    fetch_running,
    lock_owned,
)
from registry_api.tasks import mirror_fetch_locks_sweep

DIGEST = "sha256:" + "ab" * 32

HOLDER = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(600)
"""


def age(*paths, seconds: float = 3600) -> None:
    past = time.time() - seconds
    for path in paths:
        os.utime(path, (past, past))


@pytest.fixture(autouse=True)
def stale_after_a_minute(settings):
    settings.MIRROR_FETCH_STALE_SECONDS = 60


def test_a_killed_holder_does_not_block():
    lock_path, _ = fetch_paths(DIGEST)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert fetch_running(DIGEST)  # alive and fresh: a real fetch
        assert fetch_lock_take(DIGEST) is None
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        assert not fetch_running(DIGEST)
        fd = fetch_lock_take(DIGEST)
        assert fd is not None
        os.close(fd)
    finally:
        holder.kill()
        holder.wait(timeout=10)


def test_a_wedged_holder_is_broken_after_the_timeout():
    lock_path, state_path = fetch_paths(DIGEST)
    wedged = fetch_lock_take(DIGEST)
    state_path.write_text("{}")
    try:
        assert fetch_running(DIGEST)
        age(lock_path, state_path)

        assert not fetch_running(DIGEST)  # broken by the follower that found it
        assert not lock_owned(lock_path, wedged)  # the wedged fetch sees it lost its lock
        fresh = fetch_lock_take(DIGEST)
        assert fresh is not None and lock_owned(lock_path, fresh)
        os.close(fresh)
    finally:
        os.close(wedged)


def test_the_sweep_keeps_live_fetches_and_removes_leftovers():
    base = fetch_dir()
    live = "sha256:" + "01" * 32
    fd = fetch_lock_take(live)
    key = "sha256-" + "02" * 32
    old = [base / f"{key}.lock", base / f"{key}.state", base / f"{key}.abc.part"]
    stray = base / f"sha256-{'03' * 32}.def.part"
    for path in (*old, stray):
        path.write_text("x")
    age(*old, stray)
    recent = base / f"sha256-{'04' * 32}.ghi.part"
    recent.write_text("x")
    try:
        assert mirror_fetch_locks_sweep() == 1
        assert lock_owned(fetch_paths(live)[0], fd)
        assert not any(path.exists() for path in (*old, stray))
        assert recent.exists()
        # A held lock idle for the whole timeout is broken by the sweep too.
        age(fetch_paths(live)[0])
        assert fetch_locks_sweep() == 1
        assert not lock_owned(fetch_paths(live)[0], fd)
    finally:
        os.close(fd)


@pytest.mark.django_db
def test_a_pull_goes_through_a_wedged_fetch(client, upstream, hub_cache, image_one):
    upstream.image_push("library/wedged", "1", image_one)
    layer = image_one.layers[0]
    lock_path, state_path = fetch_paths(layer.digest)
    wedged = fetch_lock_take(layer.digest)
    age(lock_path)
    try:
        started = time.monotonic()
        response = client.get(f"/v2/hub/library/wedged/blobs/{layer.digest}")
        body = b"".join(response.streaming_content) if response.streaming else response.content
    finally:
        os.close(wedged)
    assert response.status_code == 200
    assert "sha256:" + hashlib.sha256(body).hexdigest() == layer.digest
    assert time.monotonic() - started < 30


def test_celery_beat_runs_the_sweep(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["mirror-fetch-locks-sweep"]
    assert entry["task"] == mirror_fetch_locks_sweep.name
    assert entry["schedule"] == float(settings.MIRROR_FETCH_SWEEP_SECONDS)
