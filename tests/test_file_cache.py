"""The embedded file cache counts atomically across processes (sign-in throttling relies on it)
and reads what Django's file cache writes."""

from __future__ import annotations

import multiprocessing
import os
import time

from django.core.cache.backends.filebased import FileBasedCache

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


def test_remembered_file_names_keep_keys_and_versions_apart(tmp_path):
    one, other = LockedFileBasedCache(str(tmp_path), {}), LockedFileBasedCache(str(tmp_path), {})
    for _ in range(2):  # the second time from the remembered names
        one.set("key", "first")
        one.set("key", "second", version=2)
        one.set("other", "third")
        assert (other.get("key"), other.get("key", version=2)) == ("first", "second")
        assert other.get("other") == "third" and other.get("missing") is None


def test_reads_see_what_django_s_file_cache_wrote_and_expire(tmp_path):
    written, read = FileBasedCache(str(tmp_path), {}), LockedFileBasedCache(str(tmp_path), {})
    large = os.urandom(300_000)  # past one read
    larger = os.urandom(3 * 1024 * 1024)  # past a first read and a full second one
    written.set("large", large)
    written.set("larger", larger)
    written.set("soon", "gone", timeout=1)
    assert read.get("large") == large and read.get("soon") == "gone"
    assert read.get("larger") == larger
    time.sleep(1.1)
    assert read.get("soon", "expired") == "expired"
    assert not os.path.exists(read._key_to_file("soon"))  # removed, as Django's own get does
