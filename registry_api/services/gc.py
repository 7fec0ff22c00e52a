"""Online garbage collection: collect what nothing can reach while pushes and pulls go on.

One collection, in order: abandoned upload sessions, expired manifest tombstones, repository
links no manifest of their repository uses, then blobs nothing references. Untagged manifests
stay (they are pullable by digest; retention policies delete them).

Race-free sweep: candidates are marked by a plain query, then each batch is deleted in its own
transaction that locks the rows `FOR UPDATE SKIP LOCKED` (PostgreSQL) and re-checks "still
unreferenced" in the DELETE's own WHERE. Writers that reference a blob lock its row `FOR KEY
SHARE` (services.blobs), so GC skips it, or it is gone before they look. Bytes are deleted
from storage only after the commit; a failed storage delete leaves an orphan for the next
`blob_collect_orphans`, never a row without bytes.
"""

from __future__ import annotations

import logging
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from config import metrics
from registry_api import storage
from registry_api.models import (
    Blob,
    BlobUpload,
    GcRun,
    Manifest,
    ManifestTombstone,
    RepositoryBlob,
)
from registry_api.services.blobs import BYTES_LOCK_KEY
from registry_api.services.uploads import upload_expire

logger = logging.getLogger(__name__)

BATCH = 1000
LOCK_KEY = "registry_api:gc:running"
LOCK_SECONDS = 6 * 3600  # a crashed run frees the lock after this

_ManifestBlob = Manifest.blobs.through
_TombstoneBlob = ManifestTombstone.blobs.through


class GcBusy(Exception):
    """Another garbage collection is running."""


@dataclass
class Cutoffs:
    uploads: datetime
    tombstones: datetime
    grace: datetime

    @classmethod
    def now(cls, *, grace_seconds: int | None = None, upload_seconds: int | None = None):
        now = timezone.now()
        grace = settings.GC_GRACE_SECONDS if grace_seconds is None else grace_seconds
        uploads = settings.UPLOAD_PURGE_AFTER_SECONDS if upload_seconds is None else upload_seconds
        return cls(
            uploads=now - timedelta(seconds=uploads),
            tombstones=now - timedelta(seconds=settings.TAG_RESTORE_SECONDS),
            grace=now - timedelta(seconds=grace),
        )


@dataclass
class Freed:
    uploads_purged: int = 0
    tombstones_expired: int = 0
    links_dropped: int = 0
    blobs_freed: int = 0
    bytes_freed: int = 0
    storage_failures: int = 0
    errors: list[str] = field(default_factory=list)


# What keeps things --------------------------------------------------------------------------


def _link_used(cutoffs: Cutoffs) -> Q:
    """A link some manifest (or live tombstone) of its own repository uses, or a young one."""
    by_manifest = _ManifestBlob.objects.filter(
        blob_id=OuterRef("blob_id"), manifest__repository_id=OuterRef("repository_id")
    )
    by_tombstone = _TombstoneBlob.objects.filter(
        blob_id=OuterRef("blob_id"),
        manifesttombstone__repository_id=OuterRef("repository_id"),
        manifesttombstone__deleted_at__gte=cutoffs.tombstones,
    )
    return Q(created_at__gte=cutoffs.grace) | Exists(by_manifest) | Exists(by_tombstone)


def _link_unused_now() -> Q:
    """The DELETE's re-check: no manifest or tombstone of the repository uses the link."""
    return ~Exists(
        _ManifestBlob.objects.filter(
            blob_id=OuterRef("blob_id"), manifest__repository_id=OuterRef("repository_id")
        )
    ) & ~Exists(
        _TombstoneBlob.objects.filter(
            blob_id=OuterRef("blob_id"), manifesttombstone__repository_id=OuterRef("repository_id")
        )
    )


def _blob_referenced(cutoffs: Cutoffs) -> Q:
    """The mark: a blob a manifest, a live tombstone or a link GC keeps refers to."""
    kept_links = RepositoryBlob.objects.filter(blob_id=OuterRef("pk")).filter(_link_used(cutoffs))
    live_tombstones = _TombstoneBlob.objects.filter(
        blob_id=OuterRef("pk"), manifesttombstone__deleted_at__gte=cutoffs.tombstones
    )
    return (
        Exists(_ManifestBlob.objects.filter(blob_id=OuterRef("pk")))
        | Exists(live_tombstones)
        | Exists(kept_links)
    )


def _blob_unreferenced_now() -> Q:
    """The sweep's re-check, strict: nothing at all refers to the blob."""
    return (
        ~Exists(_ManifestBlob.objects.filter(blob_id=OuterRef("pk")))
        & ~Exists(_TombstoneBlob.objects.filter(blob_id=OuterRef("pk")))
        & ~Exists(RepositoryBlob.objects.filter(blob_id=OuterRef("pk")))
    )


# Steps --------------------------------------------------------------------------------------


def _batches(queryset):
    """Primary keys of `queryset` in batches of BATCH, by key order (stable under deletes)."""
    last = 0
    while True:
        keys = list(
            queryset.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:BATCH]
        )
        if not keys:
            return
        yield keys
        last = keys[-1]


def _locked(queryset) -> list:
    """Lock the rows FOR UPDATE SKIP LOCKED (PostgreSQL; SQLite serializes writers anyway)."""
    if connection.vendor == "postgresql":
        queryset = queryset.select_for_update(skip_locked=True)
    return list(queryset)


def uploads_purge(*, cutoffs: Cutoffs, dry_run: bool) -> int:
    if dry_run:
        return BlobUpload.objects.filter(updated_at__lt=cutoffs.uploads).count()
    return upload_expire(older_than=cutoffs.uploads)


def tombstones_expire(*, cutoffs: Cutoffs, dry_run: bool) -> int:
    expired = ManifestTombstone.objects.filter(deleted_at__lt=cutoffs.tombstones)
    if dry_run:
        return expired.count()
    removed = 0
    for keys in _batches(expired):
        with transaction.atomic():
            removed += (
                ManifestTombstone.objects.filter(pk__in=keys)
                .delete()[1]
                .get(ManifestTombstone._meta.label, 0)
            )
    return removed


def links_drop(*, cutoffs: Cutoffs, dry_run: bool) -> int:
    """Links an upload made for a manifest that never came (or whose manifests are gone)."""
    unused = RepositoryBlob.objects.exclude(_link_used(cutoffs))
    if dry_run:
        return unused.count()
    dropped = 0
    for keys in _batches(unused):
        with transaction.atomic():
            locked = _locked(
                RepositoryBlob.objects.filter(pk__in=keys).values_list("pk", flat=True)
            )
            still = RepositoryBlob.objects.filter(pk__in=locked).filter(_link_unused_now())
            # The ORM delete (one DELETE with this WHERE unless receivers listen, e.g. usage
            # counters; then it reads the rows, locked already, and signals each).
            dropped += still.delete()[1].get(RepositoryBlob._meta.label, 0)
    return dropped


def _bytes_delete(digests: list[str]) -> list[str]:
    """Delete the bytes of swept blobs unless an upload registered the digest again meanwhile
    (it kept the stored copy): the exclusive side of the uploads' bytes lock."""
    if not digests:
        return []
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [BYTES_LOCK_KEY])
        back = set(Blob.objects.filter(digest__in=digests).values_list("digest", flat=True))
        return storage.blobs().delete_many([digest for digest in digests if digest not in back])


def blobs_sweep(*, cutoffs: Cutoffs, dry_run: bool, freed: Freed) -> None:
    """Mark blobs nothing refers to, older than the grace; sweep each batch race-free."""
    marked = Blob.objects.filter(created_at__lt=cutoffs.grace).exclude(_blob_referenced(cutoffs))
    for keys in _batches(marked):
        if dry_run:
            sizes = Blob.objects.filter(pk__in=keys).values_list("size", flat=True)
            freed.blobs_freed += len(keys)
            freed.bytes_freed += sum(sizes)
            continue
        with transaction.atomic():
            rows = _locked(
                Blob.objects.filter(pk__in=keys).values_list("pk", "digest", "size", "storage_key")
            )
            locked = [row[0] for row in rows]
            doomed = Blob.objects.filter(pk__in=locked).filter(_blob_unreferenced_now())
            doomed._raw_delete(doomed.db)
            left = set(Blob.objects.filter(pk__in=locked).values_list("pk", flat=True))
        swept = [(digest, size, name) for pk, digest, size, name in rows if pk not in left]
        # After the commit: a crash here leaves unreferenced bytes, never a row without bytes.
        failures = _bytes_delete([digest for digest, _, name in swept if not name])
        # Bytes kept in place are this row's alone (a digest pushed again gets its own object).
        failures += storage.blobs().delete_placed([name for _, _, name in swept if name])
        freed.blobs_freed += len(swept)
        freed.bytes_freed += sum(size for _, size, _ in swept)
        freed.storage_failures += len(failures)


@contextmanager
def _without_jit():
    """GC's queries are many and short, but the planner's cost estimate for the mark (anti-joins
    over every blob) makes PostgreSQL JIT-compile each one, about 30 ms spent for nothing."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET jit")


def collect(*, cutoffs: Cutoffs, dry_run: bool = False) -> Freed:
    """One collection, every kind in order; a step that fails is reported, the others run."""
    with _without_jit():
        return _collect(cutoffs=cutoffs, dry_run=dry_run)


def _collect(*, cutoffs: Cutoffs, dry_run: bool) -> Freed:
    freed = Freed()
    counted = [
        ("uploads_purged", uploads_purge),
        ("tombstones_expired", tombstones_expire),
        ("links_dropped", links_drop),
    ]
    for name, step in counted:
        try:
            setattr(freed, name, step(cutoffs=cutoffs, dry_run=dry_run))
        except Exception as exc:  # noqa: BLE001 - recorded on the run; the next run retries
            logger.exception("gc: %s failed", name)
            freed.errors.append(f"{name}: {exc}")
    try:
        blobs_sweep(cutoffs=cutoffs, dry_run=dry_run, freed=freed)
    except Exception as exc:  # noqa: BLE001
        logger.exception("gc: blob sweep failed")
        freed.errors.append(f"blobs: {exc}")
    return freed


# One recorded run ---------------------------------------------------------------------------


def gc_run(
    *,
    trigger: str,
    dry_run: bool = False,
    grace_seconds: int | None = None,
    upload_seconds: int | None = None,
    actor=None,
    request=None,
) -> GcRun:
    """Collect once under the cluster-wide GC lock and record the run (GcRun, log, audit log).

    Raises GcBusy when another collection holds the lock.
    """
    from hub.audit import audit_record

    token = uuid.uuid4().hex
    if not cache.add(LOCK_KEY, token, LOCK_SECONDS):
        raise GcBusy("another garbage collection is running")
    try:
        run = GcRun.objects.create(trigger=trigger, dry_run=dry_run)
        began = time.monotonic()
        cutoffs = Cutoffs.now(grace_seconds=grace_seconds, upload_seconds=upload_seconds)
        freed = collect(cutoffs=cutoffs, dry_run=dry_run)
        for name in (
            "uploads_purged", "tombstones_expired", "links_dropped", "blobs_freed",
            "bytes_freed", "storage_failures",
        ):  # fmt: skip
            setattr(run, name, getattr(freed, name))
        run.errors = "\n".join(freed.errors)
        run.finished_at = timezone.now()
        run.save()
        if not dry_run:
            metrics.gc_run_recorded(
                ok=not run.errors, bytes_freed=run.bytes_freed, blobs_freed=run.blobs_freed
            )
    finally:
        if cache.get(LOCK_KEY) == token:
            cache.delete(LOCK_KEY)
    logger.info(
        "gc: %s %d blobs (%d bytes), %d links, %d tombstones, %d uploads in %.1fs%s%s",
        "would free" if dry_run else "freed",
        run.blobs_freed, run.bytes_freed, run.links_dropped, run.tombstones_expired,
        run.uploads_purged, time.monotonic() - began,
        f"; {run.storage_failures} storage deletes failed" if run.storage_failures else "",
        f"; errors: {run.errors}" if run.errors else "",
    )  # fmt: skip
    audit_record(
        action="gc.run",
        actor=actor,
        target=f"gc:{run.pk}",
        result="error" if run.errors else "ok",
        data=gc_summary(run),
        request=request,
    )
    return run


def gc_summary(run: GcRun) -> dict:
    return {
        "trigger": run.trigger,
        "dry_run": run.dry_run,
        "uploads_purged": run.uploads_purged,
        "tombstones_expired": run.tombstones_expired,
        "links_dropped": run.links_dropped,
        "blobs_freed": run.blobs_freed,
        "bytes_freed": run.bytes_freed,
        "storage_failures": run.storage_failures,
        "errors": run.errors,
    }
