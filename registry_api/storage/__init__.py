"""The storage driver seam: a content-addressed blob store and an upload-staging area.

A blob lives at `blobs/<algorithm>/<first two hex>/<hex>` in the `registry` storage alias
(`STORAGES["registry"]`), one copy per digest whatever the number of repositories that link it.
It gets there only after its digest is verified, and atomically, so readers never see a partial
blob. The one exception: a blob an S3 upload staged is kept where it was staged (its
`Blob.storage_key`; completing a multipart upload in place costs nothing, copying it to its
content address costs as much as the upload), and the S3 driver reads it there.

Upload sessions stage their bytes in an `UploadStaging` (a directory every web process shares,
UPLOAD_STAGING_DIR, or on S3 the bucket itself: `s3_staging`) and are finalized into the blob
store.

Callers ask `blobs()` and `upload_staging()` for the configured drivers; the driver is chosen
once per configured backend (the class named in `STORAGES["registry"]["BACKEND"]`), never per
call.
"""

from __future__ import annotations

import errno
import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.files.storage import storages
from django.utils.module_loading import import_string

from registry_api.digests import digest_parse

logger = logging.getLogger(__name__)

READ_CHUNK = 1024 * 1024
# Storage deletes in flight at once during garbage collection (threads; S3: DeleteObjects calls).
DELETE_PARALLELISM = 8
# OS errors that mean "no room or no quota left": retriable once an operator frees space.
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


class StorageUnavailable(Exception):
    """The backend cannot take bytes right now (full disk, quota, object store error); retry
    later."""


class StagingBusy(Exception):
    """Another request holds this upload session's lock."""


class StagingMissing(Exception):
    """The upload session has no staged bytes (cancelled, expired or never created)."""


def blob_path(digest: str) -> str:
    """The storage name of a blob: sharded by the first two hex characters."""
    parsed = digest_parse(digest)
    return f"blobs/{parsed.algorithm}/{parsed.hex[:2]}/{parsed.hex}"


def delete_in_parallel(
    digests: Iterable[str],
    delete_one: Callable[[str], None],
    errors: type[BaseException] | tuple[type[BaseException], ...],
) -> list[str]:
    """`delete_many` for a backend that deletes one blob per call: DELETE_PARALLELISM threads
    overlap the round trips (or disk waits), a digest given twice is deleted once, and a
    failure (`errors`) is logged and its digest returned for garbage collection to retry."""

    def attempt(digest: str) -> str | None:
        try:
            delete_one(digest)
        except errors as exc:
            logger.warning("gc: could not delete %s: %s", digest, exc)
            return digest
        return None

    with ThreadPoolExecutor(max_workers=DELETE_PARALLELISM) as pool:
        return [failed for failed in pool.map(attempt, dict.fromkeys(digests)) if failed]


class BlobStore(ABC):
    """Verified, content-addressed blobs. Reads raise FileNotFoundError for a missing blob."""

    @abstractmethod
    def exists(self, digest: str) -> bool: ...

    @abstractmethod
    def size(self, digest: str) -> int: ...

    @abstractmethod
    def open(self, digest: str) -> BinaryIO:
        """A readable binary file object on the whole blob; the caller closes it."""

    @abstractmethod
    def open_local(self, digest: str) -> BinaryIO | None:
        """A real OS file on the blob (the WSGI server can sendfile it), or None when the
        backend keeps no local file."""

    @abstractmethod
    def chunks(self, digest: str) -> Iterator[bytes]:
        """Stream the whole blob in constant memory, opened before this returns."""

    @abstractmethod
    def range_chunks(self, digest: str, start: int, end: int) -> Iterator[bytes]:
        """Stream bytes [start, end] (inclusive), opened before this returns."""

    @abstractmethod
    def redirect_url(self, digest: str) -> str | None:
        """A presigned URL clients may fetch the blob from, or None when the backend can't sign."""

    @abstractmethod
    def put_verified(self, digest: str, staged: Path) -> None:
        """Publish a local file whose digest the caller verified; the file is consumed on
        success and left in place on failure (StorageUnavailable), so the caller may retry.

        Publication is atomic (a rename, or one completed object PUT): a failed or half-done put
        is never visible. When the digest is already stored the existing copy is kept."""

    @abstractmethod
    def delete(self, digest: str) -> None:
        """Remove a blob's bytes (garbage collection only: callers checked no link is left)."""

    @abstractmethod
    def delete_many(self, digests: Iterable[str]) -> list[str]:
        """Remove many blobs' bytes, in parallel; return the digests that could not be removed
        (garbage collection retries them: their rows are gone, so they are orphans now).
        A digest whose bytes are already gone counts as removed."""

    @abstractmethod
    def digests(self) -> Iterator[str]:
        """Every digest with stored bytes (a storage walk: garbage collection of orphans)."""

    def delete_placed(self, names: Iterable[str]) -> list[str]:
        """Remove blobs kept at their own storage name (`Blob.storage_key`), not at their content
        address; the names that could not be removed (orphans for the staging's purge). Only
        a staging that keeps blobs in place (S3) makes any."""
        if any(names):
            raise NotImplementedError(f"{type(self).__name__} keeps no blob in place")
        return []


class StagedUpload(ABC):
    """One upload session's staged bytes, held under the session's exclusive lock."""

    @abstractmethod
    def append(self, offset: int, chunks: Iterable[bytes]) -> int:
        """Write `chunks` at `offset` and return the new end. If the write or the iterable
        raises, the bytes written from `offset` on are dropped and the error propagates: the
        session stays at `offset` (StorageUnavailable when the backend is full)."""

    @abstractmethod
    def chunks(self) -> Iterator[bytes]:
        """Read the staged bytes back from the start (to re-hash them)."""

    @abstractmethod
    def finalize(self, digest: str, store: BlobStore) -> str:
        """Make the verified staged bytes `digest`'s stored bytes; the staging is consumed.
        Returns "" when they are in `store` at the content address now, else the storage name
        they stay at, which the Blob row must record (`Blob.storage_key`; when a row for the
        digest exists already, the caller removes the new copy with `store.delete_placed`).
        On StorageUnavailable the staged bytes stay, so the session can be finished later."""


class UploadStaging(ABC):
    """Where upload sessions keep their bytes until they are verified and stored."""

    @abstractmethod
    def create(self, upload_id: str) -> None: ...

    @abstractmethod
    def locked(self, upload_id: str) -> AbstractContextManager[StagedUpload]:
        """Hold the session exclusively; StagingBusy at once when another request holds it,
        StagingMissing when the session has no staged bytes."""

    @abstractmethod
    def abort(self, upload_id: str) -> None:
        """Drop the staged bytes (idempotent)."""

    @abstractmethod
    def purge(self, *, keep: set[str], older_than: datetime) -> int:
        """Remove staged bytes of sessions not in `keep`, untouched since `older_than`;
        return how many were removed."""


_DRIVERS = {
    "django.core.files.storage.FileSystemStorage": (
        "registry_api.storage.filesystem.FileSystemBlobStore"
    ),
    "storages.backends.s3.S3Storage": "registry_api.storage.s3.S3BlobStore",
    "swift.storage.SwiftStorage": "registry_api.storage.swift.SwiftBlobStore",
    "storages.backends.azure_storage.AzureStorage": "registry_api.storage.azure.AzureBlobStore",
}
_chosen: dict[str, tuple[object, object]] = {}
_chosen_lock = threading.Lock()


def blobs() -> BlobStore:
    """The blob store driver for the configured `registry` storage alias."""
    backend = storages["registry"]
    with _chosen_lock:
        cached = _chosen.get("blobs")
        if cached is None or cached[0] is not backend:
            path = settings.STORAGES["registry"]["BACKEND"]
            try:
                driver = import_string(_DRIVERS[path])
            except KeyError as exc:
                raise LookupError(f"no blob store driver for storage backend {path}") from exc
            from registry_api.storage.timed import TimedBlobStore

            cached = (backend, TimedBlobStore(driver(backend)))
            _chosen["blobs"] = cached
    return cached[1]


def staging_dir() -> Path:
    """Local scratch for temporary files (UPLOAD_STAGING_DIR; on the filesystem backend it also
    holds upload sessions, and every web process shares it)."""
    path = Path(settings.UPLOAD_STAGING_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def upload_staging() -> UploadStaging:
    """The upload-staging driver: the object store itself when the `registry` storage is S3
    (no shared directory needed), else a directory every web process shares
    (UPLOAD_STAGING_DIR)."""
    if settings.STORAGES["registry"]["BACKEND"] == "storages.backends.s3.S3Storage":
        from registry_api.storage.s3_staging import S3ObjectStaging

        backend = storages["registry"]
        with _chosen_lock:
            cached = _chosen.get("staging")
            if cached is None or cached[0] is not backend:
                cached = (backend, S3ObjectStaging(backend))
                _chosen["staging"] = cached
        return cached[1]
    from registry_api.storage.staging import FileSystemStaging

    directory = Path(settings.UPLOAD_STAGING_DIR)
    with _chosen_lock:
        cached = _chosen.get("staging")
        if cached is None or cached[0] != directory:
            cached = (directory, FileSystemStaging(directory))
            _chosen["staging"] = cached
    return cached[1]
