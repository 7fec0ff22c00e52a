"""Django's file cache with atomic counters, for installations without Redis.

FileBasedCache.add and incr read and then write: two processes incrementing one key both read
the same value and one increment is lost. Sign-in throttling counts on them, so here they run
under an exclusive lock on a file in the cache directory (shared by every local process).
"""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.filebased import FileBasedCache


class LockedFileBasedCache(FileBasedCache):
    @contextmanager
    def _locked(self):
        self._createdir()
        fd = os.open(os.path.join(self._dir, ".counters.lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        with self._locked():
            return super().add(key, value, timeout, version)

    def incr(self, key, delta=1, version=None):
        with self._locked():
            return super().incr(key, delta, version)
