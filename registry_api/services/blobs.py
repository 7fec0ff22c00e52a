"""Writes of blob records: register a stored blob, link it to a repository, unlink, mount.

Every write that makes a blob referenced locks the Blob row (and the link it relies on) `FOR KEY
SHARE` on PostgreSQL inside its transaction: garbage collection sweeps rows `FOR UPDATE SKIP
LOCKED`, so it skips a blob being referenced, and a blob it swept first is absent to the writer
(which then reports it unknown) instead of being referenced after its deletion.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from registry_api.models import Blob, RepositoryBlob

# The advisory lock between "bytes are already stored, keep them" (an upload's finalize) and
# garbage collection deleting bytes whose row it just removed: shared by uploads, exclusive by GC.
BYTES_LOCK_KEY = 0x6463_6B67  # arbitrary, fixed


def _postgresql() -> bool:
    return connection.vendor == "postgresql"


def rows_lock_for_share(queryset) -> list:
    """Run `queryset` (a values_list) `FOR KEY SHARE` on PostgreSQL: the rows of every table it
    reads stay undeletable until the transaction ends. Elsewhere a plain read (SQLite serializes
    writers anyway)."""
    if not _postgresql():
        return list(queryset)
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} FOR KEY SHARE", params)
        return cursor.fetchall()


def blobs_linked_lock(*, repository, digests) -> dict[str, Blob]:
    """The blobs of `digests` that `repository` links, locked with their links (call inside a
    transaction) so garbage collection cannot take them before it commits."""
    rows = rows_lock_for_share(
        RepositoryBlob.objects.filter(repository=repository, blob__digest__in=digests).values_list(
            "blob_id"
        )
    )
    return {blob.digest: blob for blob in Blob.objects.filter(pk__in=[row[0] for row in rows])}


@contextmanager
def blob_bytes_guard():
    """A transaction in which stored bytes found present stay present: garbage collection deletes
    bytes under the exclusive side of this lock, after re-checking that no row came back."""
    with transaction.atomic():
        if _postgresql():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [BYTES_LOCK_KEY])
        yield


def blob_register(*, digest: str, size: int, storage_key: str = "") -> Blob:
    """The Blob row for a stored digest; concurrent identical uploads end on one row.

    `storage_key`: where these bytes are, when not at the content address. When a row existed
    already its own bytes stay the blob's (`blob.storage_key` tells which): the caller removes
    the new copy once it committed.

    Inside a transaction the row is locked until the caller commits (its link, its manifest): a
    GC sweep skips it. A row a sweep deleted just before the lock is registered anew.
    """
    for _ in range(3):
        try:
            with transaction.atomic():
                blob, _ = Blob.objects.get_or_create(
                    digest=digest, defaults={"size": size, "storage_key": storage_key}
                )
        except IntegrityError:
            blob = Blob.objects.get(digest=digest)
        if not transaction.get_connection().in_atomic_block:
            return blob
        if rows_lock_for_share(Blob.objects.filter(pk=blob.pk).values_list("pk")):
            return blob
    raise RuntimeError(f"blob {digest} was swept by garbage collection three times in a row")


def blob_link(*, repository, blob: Blob) -> RepositoryBlob:
    """Let `repository` read `blob` (idempotent, safe under concurrency)."""
    for _ in range(3):
        try:
            with transaction.atomic():
                link, created = RepositoryBlob.objects.get_or_create(
                    repository=repository, blob=blob
                )
        except IntegrityError:
            link, created = RepositoryBlob.objects.get(repository=repository, blob=blob), False
        if created:
            return link
        # Linked again (re-upload, mount): the grace before GC may drop an unused link counts
        # from now. The update also locks the row; 0 rows means a sweep just dropped it.
        if RepositoryBlob.objects.filter(pk=link.pk).update(created_at=timezone.now()):
            return link
    raise RuntimeError(f"link to {blob.digest} was swept by garbage collection three times")


def blob_unlink(*, repository, digest: str) -> bool:
    """Remove this repository's link to a blob; True if there was one. The bytes stay until
    garbage collection finds no link and no manifest left."""
    deleted, _ = RepositoryBlob.objects.filter(repository=repository, blob__digest=digest).delete()
    return deleted > 0


def blob_mount(*, repository, source, digest: str) -> Blob | None:
    """Link `source`'s blob into `repository`; None when the source does not link it.

    The caller checked that the actor may pull `source`.
    """
    with transaction.atomic():
        blob = blobs_linked_lock(repository=source, digests=[digest]).get(digest)
        if blob is None:
            return None
        from registry_api.services.quotas import quota_check_blobs

        quota_check_blobs(repository=repository, blob_ids=[blob.pk])
        blob_link(repository=repository, blob=blob)
    return blob


def blob_collect_orphans(*, dry_run: bool = False) -> list[str]:
    """Delete stored bytes that no Blob row describes (a crash between store and register).

    This walks the storage, so it is an explicit, occasional operation.
    """
    from registry_api import storage

    known = set(Blob.objects.values_list("digest", flat=True))
    blobs = storage.blobs()
    orphans = [digest for digest in blobs.digests() if digest not in known]
    if not dry_run:
        for digest in orphans:
            # Re-check: an upload may have registered it since the listing.
            if not Blob.objects.filter(digest=digest).exists():
                blobs.delete(digest)
    return orphans
