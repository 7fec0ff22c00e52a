"""`scripts/run.sh` supervises its processes: a killed worker comes back, SIGTERM ends it all."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import requests

from tests.e2e.server import Server


def _processes() -> list[tuple[int, int, int, str]]:
    """(pid, parent pid, process group, command line) of every process we can see."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state ppid pgrp ...
        if fields[0] == "Z":
            continue
        found.append((int(entry.name), int(fields[1]), int(fields[2]), cmdline))
    return found


def _worker_pid(supervisor: int) -> int | None:
    for pid, parent, _, cmdline in _processes():
        if parent == supervisor and "celery" in cmdline and " worker" in cmdline:
            return pid
    return None


def _wait_for(condition, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    return condition()


def test_killed_worker_is_restarted_and_sigterm_stops_everything(tmp_path):
    env = {"DATABASE_URL": "", "REDIS_URL": "", "CELERY_BROKER_URL": ""}
    server = Server(tmp_path / "data", env=env).start()
    group = server.process.pid
    try:
        worker = _wait_for(lambda: _worker_pid(group), 30)
        assert worker, server.log()
        os.kill(worker, signal.SIGKILL)
        restarted = _wait_for(
            lambda: (_worker_pid(group) or worker) != worker and _worker_pid(group), 15
        )
        assert restarted and restarted != worker, server.log()
        assert "worker killed by SIGKILL; restarting" in server.log()
        # The web server never stopped.
        assert requests.get(server.url + "/v2/", timeout=10).status_code == 401
        assert server.process.poll() is None
        time.sleep(3)  # let the new worker finish starting: its shutdown is what used to hang
    finally:
        stopped_at = time.monotonic()
        os.killpg(group, signal.SIGTERM)
        gone = _wait_for(lambda: not [p for p in _processes() if p[2] == group], 20)
        elapsed = time.monotonic() - stopped_at
        server.stop(signal.SIGKILL)
    assert gone, [p for p in _processes() if p[2] == group]
    assert elapsed < 15, f"took {elapsed:.1f} s to stop\n{server.log()}"
    assert "Traceback" not in server.log(), server.log()
