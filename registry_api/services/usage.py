"""Keeping storage usage current (definitions: registry_api.selectors.usage).

Design, and why:
- Logical and stored bytes of a repository depend only on that repository's rows, so they are
  counters on hub.Repository, recomputed for exactly the repositories a write touched, by one
  UPDATE with aggregate subqueries, after the write commits. Every writer reaches them: receivers
  on the rows that change a repository's holdings (manifests and their blob references, blob
  links, tombstones) collect the repository ids of a transaction and refresh them once on commit.
  So pushes, uploads, mounts, deletes, repository deletes, GC and the admin site all keep them
  current without calling anything, and a recount from committed data cannot miss a concurrent
  writer's rows (the later commit recounts both).
- Exclusive bytes of a repository change when *another* repository drops its last use of a
  shared blob, so no per-repository counter can stay exact cheaply. They are computed on read
  (one aggregate query) and remembered in the shared cache under a generation token that every
  holdings change replaces (the registry_api.lookups pattern): never stale, computed at most once
  per change.
- `manage.py usage_recount` recomputes every counter from scratch, reports drift, and with
  `--repair` writes the right values.
"""

from __future__ import annotations

from django.core.cache import cache
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from registry_api.selectors import usage as usage_selectors

GENERATION_KEY = "usage:generation"
CACHE_SECONDS = 3600


def _generation() -> str:
    from registry_api.lookups import tokens

    return tokens([GENERATION_KEY])[0]


def usage_generation_replace() -> None:
    """Some repository's holdings changed: every remembered exclusive figure is void."""
    from registry_api.lookups import _new_token

    cache.set(GENERATION_KEY, _new_token(), timeout=None)


def _remembered(kind: str, pk: int, compute) -> int:
    key = f"usage:exclusive:{kind}:{pk}:{_generation()}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, timeout=CACHE_SECONDS)
    return value


def repository_exclusive_bytes(repository) -> int:
    """Exclusive bytes of a repository, from the shared cache when nothing changed since."""
    return _remembered(
        "repository",
        repository.pk,
        lambda: usage_selectors.repository_exclusive_bytes(repository),
    )


def namespace_exclusive_bytes(namespace) -> int:
    return _remembered(
        "namespace", namespace.pk, lambda: usage_selectors.namespace_exclusive_bytes(namespace)
    )


def repository_usage_read(repository) -> usage_selectors.Usage:
    """The repository's usage as pages and the API show it: counters plus exclusive bytes."""
    return usage_selectors.Usage(
        logical_bytes=repository.logical_bytes,
        stored_bytes=repository.stored_bytes,
        exclusive_bytes=repository_exclusive_bytes(repository),
    )


def namespace_usage_read(namespace) -> usage_selectors.Usage:
    from hub.models import Repository

    totals = Repository.objects.filter(namespace=namespace).aggregate(logical=Sum("logical_bytes"))
    return usage_selectors.Usage(
        logical_bytes=totals["logical"] or 0,
        # Stored bytes do not add up over repositories (a layer shared by two of them is stored
        # once): one query over the namespace.
        stored_bytes=usage_selectors.namespace_stored_bytes(namespace),
        exclusive_bytes=namespace_exclusive_bytes(namespace),
    )


def usage_refresh(repository_ids) -> None:
    """Recompute the counters of these repositories from committed data (two aggregate queries
    each; ids of deleted repositories are skipped)."""
    from hub.models import Repository

    for repository in Repository.objects.filter(pk__in=list(repository_ids)).only("pk"):
        logical, stored = usage_selectors.repository_logical_stored(repository)
        Repository.objects.filter(pk=repository.pk).update(
            logical_bytes=logical, stored_bytes=stored, usage_updated_at=timezone.now()
        )
    usage_generation_replace()
    from registry_api.services.quotas import quota_warnings_check

    quota_warnings_check(repository_ids=repository_ids)


class _Batch:
    """The repositories a transaction changed, refreshed once when it commits."""

    def __init__(self):
        self.repository_ids: set[int] = set()
        self.flushed = False

    def flush(self) -> None:
        self.flushed = True
        usage_refresh(self.repository_ids)


def usage_changed(*, repository_id: int) -> None:
    """Note that a repository's holdings changed; its counters follow after commit."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        usage_refresh({repository_id})
        return
    batch = getattr(connection, "_usage_batch", None)
    # A batch whose callback a rollback dropped is abandoned, with the rows it counted.
    if (
        batch is None
        or batch.flushed
        or not any(entry[1] == batch.flush for entry in connection.run_on_commit)
    ):
        batch = _Batch()
        connection._usage_batch = batch
        # Robust: the write is committed; a failed refresh is logged, and recount repairs it.
        transaction.on_commit(batch.flush, robust=True)
    batch.repository_ids.add(repository_id)


# Receivers (connected in registry_api.apps): every row that changes what a repository holds.


def holding_row_changed(*, instance, **_signal_kwargs) -> None:
    """A Manifest, RepositoryBlob or ManifestTombstone was saved or deleted."""
    usage_changed(repository_id=instance.repository_id)


def holding_references_changed(*, instance, action, reverse, model, pk_set, **_kwargs) -> None:
    """The blobs of a manifest or tombstone were set, added, removed or cleared."""
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if not reverse:
        usage_changed(repository_id=instance.repository_id)
        return
    # From the blob's side: `model` is Manifest or ManifestTombstone.
    holders = (
        model.objects.filter(blobs=instance)
        if pk_set is None
        else model.objects.filter(pk__in=pk_set)
    )
    for repository_id in set(holders.values_list("repository_id", flat=True)):
        usage_changed(repository_id=repository_id)
