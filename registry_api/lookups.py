"""The /v2/ hot path's lookups, remembered per process and checked against the shared cache.

Every pull resolves a repository name and then a tag or digest to a manifest. Each process keeps
what it read, and before using it compares a generation token from the shared Django cache
(Redis in production): one small `get_many` instead of two SQL queries per manifest GET.

- `v2:names` changes whenever any repository or namespace row is saved or deleted (signal
  receivers: the hub services, the admin and cascading deletes all change those rows); it
  guards name -> repository, and with it everything an authorization decision reads from the row
  (visibility, mirror).
- `v2:repository:<pk>` changes whenever a tag of that repository is written or a manifest deleted
  (services/tags.py, services/manifests.py); it guards (repository, reference) -> manifest.

A token is read before the database, and a writer replaces it when it writes and again once its
transaction commits, so an entry read from data older than the commit is never valid under the
token that follows it. A missing token (evicted, cache cleared) starts a new random one, which no
remembered entry carries. Negative answers (no such repository, no such tag) are not remembered.
"""

from __future__ import annotations

import copy
import time
import uuid

from django.core.cache import cache
from django.db import transaction

NAMES_KEY = "v2:names"
# Bounds of the per-process memory: entries, the largest manifest kept, and the age after which
# an entry is read again whatever its token says.
MAX_ENTRIES = 4096
MAX_PAYLOAD_BYTES = 256 * 1024
MAX_AGE_SECONDS = 60

_entries: dict[tuple, tuple[tuple[str, ...], float, object]] = {}


def repository_key(repository_id: int) -> str:
    return f"v2:repository:{repository_id}"


def _new_token() -> str:
    return uuid.uuid4().hex


def tokens(keys: list[str]) -> tuple[str, ...]:
    """The current tokens of these keys; a missing one is started."""
    found = cache.get_many(keys)
    for key in keys:
        if key not in found:
            token = _new_token()
            cache.add(key, token, timeout=None)
            found[key] = cache.get(key) or token
    return tuple(found[key] for key in keys)


def remembered(entry_key: tuple, current: tuple[str, ...]):
    """The instance remembered under `entry_key` if it was read under these tokens, else None.

    A copy: callers may load relations onto it without sharing them with other requests.
    """
    entry = _entries.get(entry_key)
    if entry is None:
        return None
    stored_tokens, stored_at, value = entry
    if stored_tokens != current or time.monotonic() - stored_at > MAX_AGE_SECONDS:
        return None
    return copy.copy(value)


def remember(entry_key: tuple, current: tuple[str, ...], value) -> None:
    """Keep `value` (a model instance, without the related rows loaded onto it)."""
    kept = copy.copy(value)
    kept._state.fields_cache = {}
    if len(_entries) >= MAX_ENTRIES:
        _entries.clear()  # simpler than LRU; a refill costs one query per entry
    _entries[entry_key] = (current, time.monotonic(), kept)


def forget_all() -> None:
    """Drop this process's entries (what a fresh worker starts with)."""
    _entries.clear()


def _replace(key: str) -> None:
    cache.set(key, _new_token(), timeout=None)
    transaction.on_commit(lambda: cache.set(key, _new_token(), timeout=None))


def names_changed(**_signal_kwargs) -> None:
    """A repository or namespace row changed: every name -> repository entry is void."""
    _replace(NAMES_KEY)


def repository_changed(*, repository_id: int) -> None:
    """A tag of this repository moved or went, or one of its manifests was deleted."""
    _replace(repository_key(repository_id))
