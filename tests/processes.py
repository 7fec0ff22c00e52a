"""Stopping the daemons the test harnesses start (SeaweedFS, Azurite, nginx, gunicorn...)."""

import contextlib
import os
import signal
import subprocess


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
