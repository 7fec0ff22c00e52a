"""The embedded file cache counts atomically across processes (sign-in throttling relies on it)."""

from __future__ import annotations

import multiprocessing

from config.file_cache import LockedFileBasedCache


def _count(location: str, times: int) -> None:
    cache = LockedFileBasedCache(location, {})
    for _ in range(times):
        cache.add("counter", 0, timeout=60)
        cache.incr("counter")


def test_increments_from_parallel_processes_are_never_lost(tmp_path):
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_count, args=(str(tmp_path), 100)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert LockedFileBasedCache(str(tmp_path), {}).get("counter") == 400
