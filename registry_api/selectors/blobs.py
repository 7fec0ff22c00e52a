"""Reads of blobs. A repository sees a blob only through its own link."""

from __future__ import annotations

from registry_api.models import Blob


def blob_linked(*, repository, digest: str) -> Blob | None:
    """The blob if `repository` links it (pushed, mounted or cached there), else None."""
    if repository is None:
        return None
    return Blob.objects.filter(digest=digest, repository_links__repository=repository).first()
