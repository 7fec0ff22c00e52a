"""PROMETHEUS_MULTIPROC_DIR's upkeep, for the gunicorn master and Celery: no Django needed."""

from __future__ import annotations

import os

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiproc_dir_wipe(path: str) -> None:
    """Remove the previous run's value files (only those: the directory may hold others)."""
    os.makedirs(path, mode=0o700, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".db"):
            os.unlink(os.path.join(path, name))


def process_dead(pid: int) -> None:
    """A process that wrote metrics is gone (gunicorn's child_exit, a Celery worker's end):
    its live gauges leave the sums; its counters stay (they count what happened)."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
