"""Waiting for and stopping the daemons the test harnesses start (SeaweedFS, Azurite, nginx,
gunicorn...)."""

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Collection
from pathlib import Path


def terminate(process: subprocess.Popen | None, timeout: float = 5) -> None:
    """SIGTERM one process; SIGKILL it if it is still running after `timeout` seconds."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def stop_group(
    process: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = 15
) -> None:
    """Signal a process group started with start_new_session (a master and its workers), then
    SIGKILL the group if it has not exited after `timeout` seconds."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):  # the group exited since poll()
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def until_ready(
    process: subprocess.Popen,
    attempt: Callable[[], object],
    *,
    what: str,
    log: Path,
    timeout: float,
    interval: float,
    exists: Collection[str] = (),
) -> None:
    """Call `attempt` (e.g. create the bucket) until it succeeds, or fails with an error whose
    class is named in `exists` (made by an earlier run). RuntimeError, with the log's tail, when
    the process exits or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            attempt()
            return
        except Exception as exc:  # noqa: BLE001 - not ready yet
            if type(exc).__name__ in exists:
                return
            last_error = exc
            time.sleep(interval)
    raise RuntimeError(f"{what} did not answer: {last_error}")
