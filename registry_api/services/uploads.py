"""Upload sessions: start, append streamed chunks, complete (verify + store + link), cancel.

The bytes of a session live in the upload staging (registry_api.storage) and its offset in the
database, so any process may take the next chunk. The running hash lives only in the memory
of the process that wrote the bytes (hashlib state cannot be persisted): a process that holds a
hasher covering exactly the session's current offset reuses it at PUT, any other process
re-hashes the staged bytes once, unless the process that wrote the last chunk recorded the
digest of all the bytes (`BlobUpload.hashed_digest`). The docker CLI's POST → one PATCH → PUT
never re-reads, whichever processes take its requests.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from config.metrics import bytes_pushed
from registry_api import storage
from registry_api.digests import DEFAULT_ALGORITHM, digest_parse, hasher_new
from registry_api.errors import (
    BlobTooLarge,
    BlobUploadUnknown,
    DigestInvalid,
    RangeInvalid,
    SizeInvalid,
    UploadStorageUnavailable,
)
from registry_api.models import Blob, BlobUpload
from registry_api.service_errors import QuotaExceeded
from registry_api.services.blobs import blob_bytes_guard, blob_link, blob_register
from registry_api.services.quotas import quota_check_blob

# What a client is told to wait before retrying when storage is full or failing.
RETRY_AFTER_SECONDS = 60

# Hashers of sessions this process wrote last, keyed by upload uuid: (offset covered, hasher).
_HASHERS: OrderedDict[str, tuple[int, object]] = OrderedDict()
_HASHERS_MAX = 512
_HASHERS_LOCK = threading.Lock()


def _hasher_take(upload: BlobUpload):
    """The in-process hasher covering exactly [0, upload.offset), removed from the cache (a chunk
    that fails midway must not leave a hasher that saw half of it)."""
    with _HASHERS_LOCK:
        entry = _HASHERS.pop(str(upload.uuid), None)
    if entry is not None and entry[0] == upload.offset:
        return entry[1]
    if upload.offset == 0:
        return hasher_new(DEFAULT_ALGORITHM)
    return None


def _hasher_keep(upload: BlobUpload, offset: int, hasher) -> None:
    with _HASHERS_LOCK:
        _HASHERS[str(upload.uuid)] = (offset, hasher)
        _HASHERS.move_to_end(str(upload.uuid))
        while len(_HASHERS) > _HASHERS_MAX:
            _HASHERS.popitem(last=False)


def _hasher_drop(upload: BlobUpload) -> None:
    with _HASHERS_LOCK:
        _HASHERS.pop(str(upload.uuid), None)


@contextmanager
def _storage_errors():
    """Storage that cannot take bytes now is a retriable OCI error, never a 500."""
    try:
        yield
    except storage.StorageUnavailable as exc:
        raise UploadStorageUnavailable(
            {"reason": str(exc)[:200]}, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
        ) from exc


def upload_start(*, repository, user=None) -> BlobUpload:
    """Open a session with empty staged bytes."""
    upload = BlobUpload.objects.create(repository=repository, user=user)
    try:
        with _storage_errors():
            storage.upload_staging().create(upload.uuid)
    except UploadStorageUnavailable:
        upload.delete()
        raise
    return upload


@dataclass
class Chunk:
    """A request body to append: its bytes, the length the client declared (None when sent
    chunked) and the first offset it claims (`Content-Range`, None when not sent)."""

    chunks: Iterable[bytes]
    length: int | None = None
    start: int | None = None
    end: int | None = None


@contextmanager
def _session_locked(upload: BlobUpload):
    """The session's staged bytes, exclusively locked, with `upload.offset` fresh from the
    database. Another request busy with the same session gets RangeInvalid at once (clients
    send one chunk at a time; two at once can only be a retry racing its original)."""
    with ExitStack() as held:
        try:
            staged = held.enter_context(storage.upload_staging().locked(upload.uuid))
        except storage.StagingMissing as exc:
            raise BlobUploadUnknown() from exc
        except storage.StagingBusy as exc:
            raise RangeInvalid({"offset": upload.offset}, message="upload busy") from exc
        current = (
            BlobUpload.objects.filter(pk=upload.pk).values_list("offset", "hashed_digest").first()
        )
        if current is None:
            raise BlobUploadUnknown()
        upload.offset, upload.hashed_digest = current
        try:
            yield staged
        except storage.StagingBusy as exc:  # the lock's lease ran out mid-request (S3 staging)
            raise RangeInvalid({"offset": upload.offset}, message="upload busy") from exc


def _checked(chunk: Chunk, start: int, hasher) -> Iterator[bytes]:
    """The chunk's bytes, hashed as they pass; raises (so the staging drops them) when the blob
    grows past UPLOAD_MAX_BYTES or the body disagrees with its declared length or range."""
    limit = settings.UPLOAD_MAX_BYTES
    received = 0
    for data in chunk.chunks:
        received += len(data)
        if limit and start + received > limit:
            raise BlobTooLarge({"limit": limit})
        if hasher is not None:
            hasher.update(data)
        yield data
    if chunk.length is not None and received != chunk.length:
        raise SizeInvalid({"declared": chunk.length, "received": received})
    if chunk.end is not None and received != chunk.end - start + 1:
        raise SizeInvalid({"range": f"{chunk.start}-{chunk.end}", "received": received})


def _append_locked(upload: BlobUpload, chunk: Chunk, staged) -> BlobUpload:
    start = upload.offset
    if chunk.start is not None and chunk.start != start:
        raise RangeInvalid({"offset": start})
    limit = settings.UPLOAD_MAX_BYTES
    declared = chunk.end - start + 1 if chunk.end is not None else chunk.length
    if limit and declared is not None and start + declared > limit:
        raise BlobTooLarge({"limit": limit})  # refused before a byte is read
    hasher = _hasher_take(upload)
    with _storage_errors():
        new_offset = staged.append(start, _checked(chunk, start, hasher))
    # The digest so far, for a PUT on another process (hexdigest of a copy: cheap, non-final).
    hashed = f"{DEFAULT_ALGORITHM}:{hasher.copy().hexdigest()}" if hasher is not None else ""
    fields = {"offset": new_offset, "hashed_digest": hashed, "updated_at": timezone.now()}
    if not BlobUpload.objects.filter(pk=upload.pk).update(**fields):
        raise BlobUploadUnknown()  # cancelled meanwhile
    bytes_pushed("blob", new_offset - start)
    upload.offset, upload.hashed_digest = new_offset, hashed
    if hasher is not None:
        _hasher_keep(upload, new_offset, hasher)
    return upload


def upload_append(*, upload: BlobUpload, chunk: Chunk) -> BlobUpload:
    """Write a chunk at the session's offset, hashing it as it streams.

    RangeInvalid when `Content-Range` does not start at the offset (or another request is
    writing to the session); SizeInvalid when fewer or more bytes arrived than declared;
    BlobTooLarge past UPLOAD_MAX_BYTES; UploadStorageUnavailable when storage is full. After
    any of them the session is where it was before the chunk.
    """
    with _session_locked(upload) as staged:
        return _append_locked(upload, chunk, staged)


def _rehash(staged, algorithm: str) -> str:
    """One read of the staged bytes, for a process that did not hash them all as they came."""
    hasher = hasher_new(algorithm)
    for data in staged.chunks():
        hasher.update(data)
    return f"{algorithm}:{hasher.hexdigest()}"


def _staged_digest(upload: BlobUpload, staged, algorithm: str) -> str:
    """The digest of the staged bytes: the streamed hasher when it covers them all, else the one
    recorded by the process that did, else one re-read of the staged bytes."""
    hasher = _hasher_take(upload)
    if hasher is not None and hasher.name == algorithm:
        return f"{algorithm}:{hasher.hexdigest()}"
    if upload.hashed_digest.startswith(f"{algorithm}:"):
        return upload.hashed_digest
    return _rehash(staged, algorithm)


def upload_complete(*, upload: BlobUpload, digest: str, chunk: Chunk | None = None) -> Blob:
    """Append the optional final chunk, verify the digest, store the blob, link it, and close
    the session, all under the session's lock. On a digest mismatch the session is cancelled
    (as distribution does); when storage cannot take the blob the session stays, complete and
    verified, for the client to PUT again."""
    expected = digest_parse(digest)
    with _session_locked(upload) as staged:
        if chunk is not None:
            _append_locked(upload, chunk, staged)
        actual = _staged_digest(upload, staged, expected.algorithm)
        if actual != str(expected):
            upload_cancel(upload=upload)
            raise DigestInvalid({"digest": str(expected), "actual": actual})
        try:  # before the bytes are stored: a refused blob leaves nothing behind
            quota_check_blob(repository=upload.repository, digest=actual, size=upload.offset)
        except QuotaExceeded:
            upload_cancel(upload=upload)
            raise
        # One copy per digest: at the content address the store keeps the copy it has; bytes
        # kept where they were staged (S3) are the blob's unless a row has its own already.
        # The guard keeps bytes found already stored from being collected before the row exists.
        with blob_bytes_guard():
            with _storage_errors():
                placed = staged.finalize(str(expected), storage.blobs())
            blob = blob_register(digest=str(expected), size=upload.offset, storage_key=placed)
            blob_link(repository=upload.repository, blob=blob)
            BlobUpload.objects.filter(pk=upload.pk).delete()
    if placed and blob.storage_key != placed:  # a failure leaves an orphan for the purge
        storage.blobs().delete_placed([placed])
    return blob


def upload_cancel(*, upload: BlobUpload) -> None:
    _hasher_drop(upload)
    storage.upload_staging().abort(upload.uuid)
    BlobUpload.objects.filter(pk=upload.pk).delete()


def upload_expire(*, older_than) -> int:
    """Cancel sessions idle since before `older_than` and remove staged bytes no session owns.
    Returns how many sessions and stray stagings were removed."""
    removed = 0
    for upload in BlobUpload.objects.filter(updated_at__lt=older_than).iterator():
        upload_cancel(upload=upload)
        removed += 1
    live = {str(value) for value in BlobUpload.objects.values_list("uuid", flat=True)}
    return removed + storage.upload_staging().purge(keep=live, older_than=older_than)
