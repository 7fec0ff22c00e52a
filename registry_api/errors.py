"""One registry error type and the OCI error-code table, rendered in one place (the /v2/ endpoint
wrapper, registry_api.endpoint), and the mapping of service refusals onto it.

Codes and statuses follow the OCI distribution-spec table and distribution's errcode/register.go.
"""

from __future__ import annotations

from typing import Any

from registry_api import service_errors


class RegistryError(Exception):
    code = "UNKNOWN"
    message = "unknown error"
    status = 500

    def __init__(
        self,
        detail: Any = None,
        *,
        message: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        if message is not None:
            self.message = message
        super().__init__(self.message)
        self.detail = detail
        self.headers = dict(headers or {})

    def as_json(self) -> dict:
        """Return the OCI error body: {"errors": [{"code", "message", "detail"}]}."""
        detail = self.detail if self.detail is not None else {}
        return {"errors": [{"code": self.code, "message": self.message, "detail": detail}]}


class BlobUnknown(RegistryError):
    code = "BLOB_UNKNOWN"
    message = "blob unknown to registry"
    status = 404


class BlobUploadInvalid(RegistryError):
    code = "BLOB_UPLOAD_INVALID"
    message = "blob upload invalid"
    status = 400


class BlobUploadUnknown(RegistryError):
    code = "BLOB_UPLOAD_UNKNOWN"
    message = "blob upload unknown to registry"
    status = 404


class DigestInvalid(RegistryError):
    code = "DIGEST_INVALID"
    message = "provided digest did not match uploaded content"
    status = 400


class ManifestBlobUnknown(RegistryError):
    code = "MANIFEST_BLOB_UNKNOWN"
    message = "manifest references a manifest or blob unknown to registry"
    status = 400


class ManifestInvalid(RegistryError):
    code = "MANIFEST_INVALID"
    message = "manifest invalid"
    status = 400


class ManifestUnknown(RegistryError):
    code = "MANIFEST_UNKNOWN"
    message = "manifest unknown to registry"
    status = 404


class NameInvalid(RegistryError):
    code = "NAME_INVALID"
    message = "invalid repository name"
    status = 400


class NameUnknown(RegistryError):
    code = "NAME_UNKNOWN"
    message = "repository name not known to registry"
    status = 404


class SizeInvalid(RegistryError):
    code = "SIZE_INVALID"
    message = "provided length did not match content length"
    status = 400


class BlobTooLarge(SizeInvalid):
    """The blob would grow past UPLOAD_MAX_BYTES."""

    message = "blob exceeds the registry's size limit"
    status = 413


class UploadStorageUnavailable(BlobUploadInvalid):
    """Storage is full or failing: the session stays at its last good offset, retry later."""

    message = "storage cannot take the upload now, retry later"
    status = 507


class RangeInvalid(RegistryError):
    code = "RANGE_INVALID"
    message = "invalid content range"
    status = 416


class Unauthorized(RegistryError):
    code = "UNAUTHORIZED"
    message = "authentication required"
    status = 401


class Denied(RegistryError):
    code = "DENIED"
    message = "requested access to the resource is denied"
    status = 403


class Unsupported(RegistryError):
    code = "UNSUPPORTED"
    message = "the operation is unsupported"
    status = 405


class TooManyRequests(RegistryError):
    code = "TOOMANYREQUESTS"
    message = "too many requests"
    status = 429


class PaginationNumberInvalid(RegistryError):
    """`n` on tags/list or _catalog is not a non-negative integer (distribution's code)."""

    code = "PAGINATION_NUMBER_INVALID"
    message = "invalid number of results requested"
    status = 400


# Service refusals (registry_api.service_errors) as OCI errors: the code's error type and, where
# the distribution-spec asks for another status than the code's usual one, that status.
SERVICE_ERRORS: dict[type[service_errors.ServiceError], tuple[type[RegistryError], int | None]] = {
    service_errors.DigestMalformed: (DigestInvalid, None),
    service_errors.ManifestDigestMismatch: (DigestInvalid, None),
    service_errors.ManifestMalformed: (ManifestInvalid, None),
    service_errors.ManifestReferenceUnknown: (ManifestBlobUnknown, None),
    # OCI distribution-spec, "Pushing Manifests": a manifest refused for its size gets 413.
    service_errors.ManifestTooLarge: (ManifestInvalid, 413),
    service_errors.TagNameInvalid: (ManifestInvalid, None),
    # The spec has no code for "still in use" or "protected by a rule": DENIED, naming the cause.
    service_errors.ManifestInUse: (Denied, None),
    service_errors.TagImmutable: (Denied, None),
    service_errors.QuotaExceeded: (Denied, None),
}


def registry_error(error: Exception) -> RegistryError:
    """The OCI error to answer for a RegistryError or a service refusal (its nearest mapped type).

    A refusal with no mapping is a bug and answers UNKNOWN (500); a test checks there is none.
    """
    if isinstance(error, RegistryError):
        return error
    for kind in type(error).__mro__:
        if kind in SERVICE_ERRORS:
            oci_type, status = SERVICE_ERRORS[kind]
            break
    else:
        oci_type, status = RegistryError, None
    oci_error = oci_type(getattr(error, "detail", None), message=getattr(error, "message", None))
    if status is not None:
        oci_error.status = status
    return oci_error
