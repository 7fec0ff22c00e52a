"""What the registry services refuse, free of any protocol.

Services raise these; each edge maps them once: the /v2/ endpoint to OCI error codes and statuses
(registry_api.errors.registry_error), the REST API to DRF errors (hub.apis.common.BaseApi).
`message` is for people, `detail` (plain data) for clients.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    message = "the request was refused"

    def __init__(self, detail: Any = None, *, message: str | None = None):
        if message is not None:
            self.message = message
        super().__init__(self.message)
        self.detail = detail


class DigestMalformed(ServiceError):
    message = "invalid digest"


class ManifestTooLarge(ServiceError):
    message = "manifest exceeds the size limit"


class ManifestMalformed(ServiceError):
    """The body is not a manifest the registry accepts (JSON, media type, descriptors)."""

    message = "manifest invalid"


class ManifestDigestMismatch(ServiceError):
    message = "manifest digest did not match the reference"


class ManifestReferenceUnknown(ServiceError):
    """The manifest names a blob or child manifest this repository does not hold."""

    message = "manifest references a manifest or blob unknown to this repository"


class TagNameInvalid(ServiceError):
    message = "invalid tag"


class ManifestInUse(ServiceError):
    """A manifest an index of the repository still lists: deleting it would break the index."""

    message = "manifest is referenced by an index: delete the index first"


class TagImmutable(ServiceError):
    """An immutability rule protects the tag: it may be created, never moved or deleted."""

    message = "tag is immutable"


class QuotaExceeded(ServiceError):
    """The push would take the namespace over its storage quota (registry_api.services.quotas)."""

    message = "quota exceeded"
