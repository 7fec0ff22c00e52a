"""Pull counting without a database write per manifest GET.

Every GET counts a pull (Repository.pull_count; by tag name also Tag.pull_count and
Tag.last_pulled_at). Written at once, each GET takes the database's write lock (on SQLite one
lock for all processes), which serialized every GET of every worker (bench/README.md). A serving
process therefore adds pulls up in memory and one background thread writes them in one short
transaction every REGISTRY_PULLS_FLUSH_SECONDS, as soon as FLUSH_AFTER pulls are waiting, and
when the worker exits (config/gunicorn.py).

Buffering needs that flusher: a process that never started one (tests, manage.py, Celery,
`runserver`) writes each pull at once, so counts read right after a GET are exact there.
`pulls_flush()` writes what is buffered now; a failed flush keeps the pulls for the next one.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

logger = logging.getLogger(__name__)

# Flush early when this many pulls wait (a burst must not wait for the timer to be written).
FLUSH_AFTER = 1000

_lock = threading.Lock()
_counts: Counter[int] = Counter()  # repository id -> pulls not written yet
_tag_times: dict[tuple[int, str], datetime] = {}  # (repository id, tag name) -> last pull
_tag_counts: Counter[tuple[int, str]] = Counter()  # (repository id, tag name) -> pulls
_pending = 0
_wake = threading.Event()
_stop = threading.Event()
_flusher: threading.Thread | None = None


def _write(
    counts: dict[int, int],
    tag_times: dict[tuple[int, str], datetime],
    tag_counts: dict[tuple[int, str], int] | None = None,
) -> None:
    from hub.models import Repository
    from registry_api.models import Tag

    with transaction.atomic():  # one short write transaction: SQLite takes its lock once
        for repository_id, pulls in counts.items():
            Repository.objects.filter(pk=repository_id).update(pull_count=F("pull_count") + pulls)
        for (repository_id, name), pulls in (tag_counts or {}).items():
            Tag.objects.filter(repository_id=repository_id, name=name).update(
                pull_count=F("pull_count") + pulls
            )
        for (repository_id, name), pulled_at in tag_times.items():
            # Another process may have written a later pull already: never move the time back.
            Tag.objects.filter(
                Q(last_pulled_at__isnull=True) | Q(last_pulled_at__lt=pulled_at),
                repository_id=repository_id,
                name=name,
            ).update(last_pulled_at=pulled_at)


def pull_record(*, repository_id: int, tag_name: str = "") -> None:
    """Count one pull of the repository; stamp the tag when it was pulled by name."""
    now = timezone.now()
    tag_times = {(repository_id, tag_name): now} if tag_name else {}
    tag_counts = {(repository_id, tag_name): 1} if tag_name else {}
    if not buffering():
        _write({repository_id: 1}, tag_times, tag_counts)
        return
    global _pending
    with _lock:
        _counts[repository_id] += 1
        _tag_times.update(tag_times)
        _tag_counts.update(tag_counts)
        _pending += 1
        full = _pending >= FLUSH_AFTER
    if full:
        _wake.set()


def pulls_flush() -> int:
    """Write the buffered pulls in one transaction; return how many were written."""
    global _pending
    with _lock:
        counts, tag_times, tag_counts = dict(_counts), dict(_tag_times), dict(_tag_counts)
        written = _pending
        _counts.clear()
        _tag_times.clear()
        _tag_counts.clear()
        _pending = 0
    if not counts and not tag_times:
        return 0
    try:
        _write(counts, tag_times, tag_counts)
    except Exception:
        with _lock:  # keep them for the next flush: a busy database must not lose pulls
            _counts.update(counts)
            _tag_counts.update(tag_counts)
            for key, pulled_at in tag_times.items():
                _tag_times[key] = max(pulled_at, _tag_times.get(key, pulled_at))
            _pending += written
        raise
    return written


def buffering() -> bool:
    return _flusher is not None and _flusher.is_alive()


def _flush_loop(interval: float) -> None:
    while True:
        _wake.wait(interval)
        _wake.clear()
        if _stop.is_set():
            return
        try:
            pulls_flush()
        except Exception:
            logger.exception("writing the pull counts failed; retrying at the next flush")
        finally:
            connection.close()  # this thread serves no request: nothing else would close it


def flusher_start() -> bool:
    """Buffer this process's pulls from now on (a serving process calls it once at start).

    False when REGISTRY_PULLS_FLUSH_SECONDS is 0: every pull is then written at once.
    """
    global _flusher
    interval = settings.REGISTRY_PULLS_FLUSH_SECONDS
    if interval <= 0:
        return False
    with _lock:
        if _flusher is None or not _flusher.is_alive():
            _stop.clear()
            _flusher = threading.Thread(
                target=_flush_loop, args=(interval,), name="pulls-flush", daemon=True
            )
            _flusher.start()
    return True


def flusher_stop() -> None:
    """Stop buffering and write what is buffered (a worker calls it when it exits)."""
    global _flusher
    flusher, _flusher = _flusher, None
    if flusher is not None:
        _stop.set()
        _wake.set()
        flusher.join(timeout=10)
    try:
        pulls_flush()
    except Exception:
        logger.exception("writing the pull counts failed at exit; %d pulls lost", _pending)
