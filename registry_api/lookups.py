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

Within one /v2/ request (`request_snapshot`, opened by registry_endpoint) each token is read
once, and the name lookup fetches the repository's token with the names token when it already
knows the repository: one cache round trip per manifest GET instead of three. A writer drops the
tokens it replaces from its own snapshot, so what a request reads after its own write is fresh.

A token is read before the database, and a writer replaces it when it writes and again once its
transaction commits, so an entry read from data older than the commit is never valid under the
token that follows it. A missing token (evicted, cache cleared) starts a new random one, which no
remembered entry carries. Negative answers (no such repository, no such tag) are not remembered.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.core.cache import cache
from django.db import transaction
from django.db.models.base import ModelState

NAMES_KEY = "v2:names"
# Bounds of the per-process memory: entries, the largest manifest kept, and the age after which
# an entry is read again whatever its token says.
MAX_ENTRIES = 4096
MAX_PAYLOAD_BYTES = 256 * 1024
MAX_AGE_SECONDS = 60

_entries: dict[tuple, tuple[tuple[str, ...], float, object]] = {}
# The tokens this request has read (None outside a request_snapshot).
_snapshot: ContextVar[dict[str, str] | None] = ContextVar("lookup_tokens", default=None)


def repository_key(repository_id: int) -> str:
    return f"v2:repository:{repository_id}"


def _new_token() -> str:
    return uuid.uuid4().hex


@contextmanager
def request_snapshot() -> Iterator[None]:
    """Read each token at most once until the block ends (one request)."""
    reset = _snapshot.set({})
    try:
        yield
    finally:
        _snapshot.reset(reset)


def tokens(keys: list[str], *, also: Iterable[str] = ()) -> tuple[str, ...]:
    """The current tokens of these keys; a missing one is started. In a request snapshot,
    the tokens of `also` are fetched in the same round trip, for the lookups that follow."""
    snapshot = _snapshot.get()
    asked = (*keys, *also) if snapshot is not None else keys  # `also` only serves a snapshot
    read = snapshot or {}
    wanted = [key for key in dict.fromkeys(asked) if key not in read]
    found = cache.get_many(wanted) if wanted else {}
    for key in wanted:
        if key not in found:
            token = _new_token()
            cache.add(key, token, timeout=None)
            found[key] = cache.get(key) or token
    if snapshot is None:
        return tuple(found[key] for key in keys)
    snapshot.update(found)
    return tuple(snapshot[key] for key in keys)


def remembered_pk(entry_key: tuple) -> int | None:
    """The primary key of the instance remembered under `entry_key`, whatever its token: a hint
    for which tokens to fetch, never an answer."""
    entry = _entries.get(entry_key)
    return getattr(entry[2], "pk", None) if entry is not None else None


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
    return _instance_copy(value)


def remember(entry_key: tuple, current: tuple[str, ...], value) -> None:
    """Keep `value` (a model instance, without the related rows loaded onto it)."""
    kept = _instance_copy(value)
    if len(_entries) >= MAX_ENTRIES:
        _entries.clear()  # simpler than LRU; a refill costs one query per entry
    _entries[entry_key] = (current, time.monotonic(), kept)


def _instance_copy(instance):
    """A copy of the instance's fields, with no related rows loaded onto it. copy.copy of a
    model goes through pickling's __reduce__ (a model lookup by name): three of them were a
    tenth of a remembered manifest GET."""
    clone = instance.__class__.__new__(instance.__class__)
    clone.__dict__.update(instance.__dict__)
    clone._state = state = ModelState()
    state.db, state.adding = instance._state.db, instance._state.adding
    return clone


def forget_all() -> None:
    """Drop this process's entries (what a fresh worker starts with)."""
    _entries.clear()


def _replace(key: str) -> None:
    def replace() -> None:
        cache.set(key, _new_token(), timeout=None)
        if (snapshot := _snapshot.get()) is not None:
            snapshot.pop(key, None)

    replace()
    transaction.on_commit(replace)


def names_changed(**_signal_kwargs) -> None:
    """A repository or namespace row changed: every name -> repository entry is void."""
    _replace(NAMES_KEY)


def repository_changed(*, repository_id: int) -> None:
    """A tag of this repository moved or went, or one of its manifests was deleted."""
    _replace(repository_key(repository_id))
