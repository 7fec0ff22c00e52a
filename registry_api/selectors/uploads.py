"""Reads of upload sessions."""

from __future__ import annotations

import uuid

from registry_api.models import BlobUpload


def upload_get(*, repository, upload_id: str) -> BlobUpload | None:
    """The upload session `upload_id` of this repository; None for a malformed or foreign id."""
    if repository is None:
        return None
    try:
        key = uuid.UUID(upload_id)
    except (ValueError, TypeError):
        return None
    return BlobUpload.objects.filter(uuid=key, repository=repository).first()
