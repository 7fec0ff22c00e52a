"""Django's file cache with atomic counters, for installations without Redis.

FileBasedCache.add and incr read and then write: two processes incrementing one key both read
the same value and one increment is lost. Sign-in throttling counts on them, so here they run
under an exclusive lock on a file in the cache directory (shared by every local process).

The /v2/ lookups read the same few small keys on every manifest GET, so reads are lean: each
key's file name is remembered (validating and hashing a key cost more than reading the file),
and a file is read with one os.read rather than through a buffered file object.
"""

from __future__ import annotations

import fcntl
import io
import os
import pickle
import time
import zlib
from contextlib import contextmanager

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.filebased import FileBasedCache

# File names remembered per cache instance (one per thread); past this, the memory starts over.
MAX_FILE_NAMES = 10_000


class LockedFileBasedCache(FileBasedCache):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._file_names: dict[tuple, str] = {}

    def _key_to_file(self, key, version=None):
        name = self._file_names.get((key, version))
        if name is None:  # a pure function of the key (and the cache's prefix and version)
            name = super()._key_to_file(key, version)
            if len(self._file_names) >= MAX_FILE_NAMES:
                self._file_names.clear()
            self._file_names[key, version] = name
        return name

    def get(self, key, default=None, version=None):
        # Django's format: the pickled expiry, then the zlib-compressed pickled value.
        file_name = self._key_to_file(key, version)
        try:
            fd = os.open(file_name, os.O_RDONLY)
        except FileNotFoundError:
            return default
        try:
            data = os.read(fd, 65536)
            if len(data) == 65536:  # larger than one read: read up to the end of the file
                pieces = [data]
                while piece := os.read(fd, 1 << 20):
                    pieces.append(piece)
                data = b"".join(pieces)
        finally:
            os.close(fd)
        stored = io.BytesIO(data)
        # Written only by our processes into a 0700 directory, as Django's file cache trusts.
        expiry = pickle.load(stored)  # noqa: S301
        if expiry is not None and expiry < time.time():
            self._delete(file_name)
            return default
        return pickle.loads(zlib.decompress(stored.read()))  # noqa: S301

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
