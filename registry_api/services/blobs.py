"""Writes of blob records: register a stored blob, link it to a repository, unlink, mount."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from registry_api.models import Blob, RepositoryBlob


def blob_register(*, digest: str, size: int) -> Blob:
    """The Blob row for a stored digest; concurrent identical uploads end on one row."""
    try:
        with transaction.atomic():
            blob, _ = Blob.objects.get_or_create(digest=digest, defaults={"size": size})
    except IntegrityError:
        blob = Blob.objects.get(digest=digest)
    return blob


def blob_link(*, repository, blob: Blob) -> RepositoryBlob:
    """Let `repository` read `blob` (idempotent, safe under concurrency)."""
    try:
        with transaction.atomic():
            link, _ = RepositoryBlob.objects.get_or_create(repository=repository, blob=blob)
    except IntegrityError:
        link = RepositoryBlob.objects.get(repository=repository, blob=blob)
    return link


def blob_unlink(*, repository, digest: str) -> bool:
    """Remove this repository's link to a blob; True if there was one. The bytes stay until
    garbage collection finds no link and no manifest left."""
    deleted, _ = RepositoryBlob.objects.filter(repository=repository, blob__digest=digest).delete()
    return deleted > 0


def blob_mount(*, repository, source, digest: str) -> Blob | None:
    """Link `source`'s blob into `repository`; None when the source does not link it.

    The caller checked that the actor may pull `source`.
    """
    blob = Blob.objects.filter(digest=digest, repository_links__repository=source).first()
    if blob is None:
        return None
    from registry_api.services.quotas import quota_check_blobs

    quota_check_blobs(repository=repository, blob_ids=[blob.pk])
    blob_link(repository=repository, blob=blob)
    return blob


def blob_collect(*, older_than, dry_run: bool = False) -> list[str]:
    """Delete blobs no repository links and no manifest references, created before `older_than`
    (the grace period keeps a blob that an upload is about to link). Returns their digests.

    The row goes first, the bytes after commit: a crash in between leaves unreferenced bytes
    (found by `blob_collect_orphans`), never a row without bytes.
    """
    from registry_api import storage

    unreferenced = Blob.objects.filter(
        created_at__lt=older_than, repository_links__isnull=True, manifests__isnull=True
    )
    collected = []
    for blob in unreferenced.only("pk", "digest").iterator():
        if dry_run:
            collected.append(blob.digest)
            continue
        with transaction.atomic():
            deleted, _ = Blob.objects.filter(
                pk=blob.pk, repository_links__isnull=True, manifests__isnull=True
            ).delete()
        if deleted:
            storage.blobs().delete(blob.digest)
            collected.append(blob.digest)
    return collected


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
