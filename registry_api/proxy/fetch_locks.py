"""The single-flight lock of the cache's blob fetches: one exclusive `flock` on
`<staging>/proxy/<digest>.lock` for as long as a fetch runs (blobs.py).

The kernel releases a flock when its process dies, but a holder can still stop making progress
without dying: a fetch wedged on an upstream that stopped sending, a process frozen, a staging
directory on a network filesystem whose client went away. Followers would then wait forever. A
lock whose fetch shows no progress (no byte written, no state change) for
MIRROR_FETCH_STALE_SECONDS is stale: whoever finds it (an acquirer, a follower, the periodic
sweep) breaks it by unlinking the lock file, so the next acquirer locks a new file; the wedged
fetch notices it lost its lock and writes nothing more. Acquiring checks that the locked file is
still the one at the path, so a lock taken on a file just unlinked never counts.

The sweep (Celery beat, MIRROR_FETCH_SWEEP_SECONDS) also removes what finished or dead fetches
leave: lock and state files, `.part` files, after the same timeout.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from pathlib import Path

from django.conf import settings

from registry_api import storage

logger = logging.getLogger(__name__)

RECHECK_SECONDS = 0.05


def fetch_dir() -> Path:
    base = storage.staging_dir() / "proxy"
    base.mkdir(parents=True, exist_ok=True)
    return base


def fetch_key(digest: str) -> str:
    return digest.replace(":", "-")


def fetch_paths(digest: str) -> tuple[Path, Path]:
    """(lock file, state file) of a digest's fetch."""
    base, key = fetch_dir(), fetch_key(digest)
    return base / f"{key}.lock", base / f"{key}.state"


def lock_owned(path: Path, fd: int) -> bool:
    """Is the file `fd` locks still the one at `path` (not unlinked by a sweep)?"""
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def lock_try(path: Path, mode: int) -> int | None:
    """An fd holding the flock in `mode`, or None when another holder prevents it."""
    for _ in range(3):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        if lock_owned(path, fd):
            return fd
        os.close(fd)  # a sweep unlinked this file between our open and our lock: again
    return None


def fetch_lock_take(digest: str) -> int | None:
    """The exclusive lock of a new fetch (its start counts as progress), or None when held."""
    lock_path, _ = fetch_paths(digest)
    fd = lock_try(lock_path, fcntl.LOCK_EX)
    if fd is not None:
        os.utime(fd)
    return fd


def _last_progress(lock_path: Path) -> float:
    """When the digest's fetch last did something: the newest of its files' mtimes."""
    key = lock_path.name.removesuffix(".lock")
    newest = 0.0
    for path in (lock_path, *lock_path.parent.glob(f"{key}.*")):
        try:
            newest = max(newest, path.stat().st_mtime)
        except FileNotFoundError:
            continue
    return newest


def _stale(lock_path: Path) -> bool:
    return _last_progress(lock_path) < time.time() - settings.MIRROR_FETCH_STALE_SECONDS


def _stale_held(lock_path: Path) -> bool:
    """Held without progress, seen twice a moment apart: an acquirer marks its start just
    after locking, which the second look sees."""
    if not _stale(lock_path):
        return False
    time.sleep(RECHECK_SECONDS)
    fd = lock_try(lock_path, fcntl.LOCK_SH)
    if fd is not None:
        os.close(fd)
        return False
    return _stale(lock_path)


def _break(lock_path: Path) -> None:
    logger.warning("breaking the stale fetch lock %s (no progress)", lock_path.name)
    lock_path.unlink(missing_ok=True)


def fetch_running(digest: str) -> bool:
    """Is some thread or process fetching this digest right now (and making progress)?"""
    lock_path, _ = fetch_paths(digest)
    fd = lock_try(lock_path, fcntl.LOCK_SH)
    if fd is not None:
        os.close(fd)
        return False
    if _stale_held(lock_path):
        _break(lock_path)
        return False
    return True


def leftovers_remove(digest: str) -> None:
    """Remove what an earlier fetch of the digest left; the caller holds the lock."""
    _, state_path = fetch_paths(digest)
    state_path.unlink(missing_ok=True)
    for stale in state_path.parent.glob(f"{fetch_key(digest)}.*.part"):
        stale.unlink(missing_ok=True)


def fetch_locks_sweep() -> int:
    """Break stale locks and remove the files of fetches idle for MIRROR_FETCH_STALE_SECONDS;
    return how many digests were swept."""
    base = fetch_dir()
    cutoff = time.time() - settings.MIRROR_FETCH_STALE_SECONDS
    swept = 0
    for lock_path in base.glob("*.lock"):
        if not _stale(lock_path):
            continue
        fd = lock_try(lock_path, fcntl.LOCK_EX)
        if fd is None:
            if _stale_held(lock_path):
                _break(lock_path)
        else:
            try:
                key = lock_path.name.removesuffix(".lock")
                for leftover in base.glob(f"{key}.*"):
                    if leftover != lock_path:
                        leftover.unlink(missing_ok=True)
                lock_path.unlink(missing_ok=True)
            finally:
                os.close(fd)
        swept += 1
    # What a broken lock's fetch left (its lock file is gone already).
    for stray in base.iterdir():
        key = stray.name.split(".", 1)[0]
        if stray.suffix == ".lock" or (base / f"{key}.lock").exists():
            continue
        try:
            if stray.stat().st_mtime < cutoff:
                stray.unlink(missing_ok=True)
        except FileNotFoundError:
            continue
    return swept
