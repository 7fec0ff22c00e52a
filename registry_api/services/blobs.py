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
    blob_link(repository=repository, blob=blob)
    return blob
