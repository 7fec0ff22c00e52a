"""Reads of blobs and upload sessions. A repository sees a blob only through its own link."""

from __future__ import annotations

import uuid

from registry_api.models import Blob, BlobUpload


def blob_linked(*, repository, digest: str) -> Blob | None:
    """The blob if `repository` links it (pushed, mounted or cached there), else None."""
    if repository is None:
        return None
    return Blob.objects.filter(digest=digest, repository_links__repository=repository).first()


def blob_get(*, digest: str) -> Blob | None:
    return Blob.objects.filter(digest=digest).first()


def upload_get(*, repository, upload_id: str) -> BlobUpload | None:
    """The upload session `upload_id` of this repository; None for a malformed or foreign id."""
    if repository is None:
        return None
    try:
        key = uuid.UUID(upload_id)
    except (ValueError, TypeError):
        return None
    return BlobUpload.objects.filter(uuid=key, repository=repository).first()
