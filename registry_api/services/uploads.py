"""Upload sessions: start, append streamed chunks, complete (verify + store + link), cancel.

The bytes of a session are staged in UPLOAD_STAGING_DIR/<uuid> and its offset lives in the
database, so any process may take the next chunk. The running sha256 lives only in the memory
of the process that wrote the bytes (hashlib state cannot be persisted): a process that holds a
hasher covering exactly the session's current offset reuses it at PUT, any other process
re-hashes the staged file once. The docker CLI's POST → one PATCH → PUT never re-reads.
"""

from __future__ import annotations

import fcntl
import threading
from collections import OrderedDict
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from registry_api import storage
from registry_api.digests import DEFAULT_ALGORITHM, digest_file, digest_parse, hasher_new
from registry_api.errors import BlobUploadUnknown, DigestInvalid, RangeInvalid, SizeInvalid
from registry_api.models import Blob, BlobUpload
from registry_api.services.blobs import blob_link, blob_register

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


def upload_start(*, repository, user=None) -> BlobUpload:
    """Open a session with an empty staged file."""
    upload = BlobUpload.objects.create(repository=repository, user=user)
    storage.staging_create(upload.uuid)
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
    """The staged file, opened for writing and exclusively locked, with `upload.offset` fresh
    from the database. Another request busy with the same session gets RangeInvalid at once
    (clients send one chunk at a time; two at once can only be a retry racing its original)."""
    try:
        handle = open(storage.staging_path(upload.uuid), "r+b")  # noqa: SIM115 - closed below
    except FileNotFoundError as exc:
        raise BlobUploadUnknown() from exc
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise RangeInvalid({"offset": upload.offset}, message="upload busy") from exc
        current = BlobUpload.objects.filter(pk=upload.pk).values_list("offset", flat=True).first()
        if current is None:
            raise BlobUploadUnknown()
        upload.offset = current
        yield handle


def _append_locked(upload: BlobUpload, chunk: Chunk, handle) -> BlobUpload:
    start = upload.offset
    if chunk.start is not None and chunk.start != start:
        raise RangeInvalid({"offset": start})
    hasher = _hasher_take(upload)
    received = 0
    handle.seek(start)
    try:
        for data in chunk.chunks:
            handle.write(data)
            received += len(data)
            if hasher is not None:
                hasher.update(data)
        if chunk.length is not None and received != chunk.length:
            raise SizeInvalid({"declared": chunk.length, "received": received})
        if chunk.end is not None and received != chunk.end - start + 1:
            raise SizeInvalid({"range": f"{chunk.start}-{chunk.end}", "received": received})
    except BaseException:
        # A broken chunk leaves the session where it was: drop the bytes it wrote.
        handle.truncate(start)
        raise
    handle.truncate()
    handle.flush()
    new_offset = start + received
    fields = {"offset": new_offset, "updated_at": timezone.now()}
    if hasher is not None:
        fields["hashed_offset"] = new_offset
    if not BlobUpload.objects.filter(pk=upload.pk).update(**fields):
        raise BlobUploadUnknown()  # cancelled meanwhile
    upload.offset = new_offset
    if hasher is not None:
        upload.hashed_offset = new_offset
        _hasher_keep(upload, new_offset, hasher)
    return upload


def upload_append(*, upload: BlobUpload, chunk: Chunk) -> BlobUpload:
    """Write a chunk at the session's offset, hashing it as it streams.

    RangeInvalid when `Content-Range` does not start at the offset (or another request is
    writing to the session); SizeInvalid when fewer or more bytes arrived than declared.
    """
    with _session_locked(upload) as handle:
        return _append_locked(upload, chunk, handle)


def _staged_digest(upload: BlobUpload, algorithm: str) -> str:
    """The digest of the staged bytes: the streamed hasher when it covers them all, else one
    re-read of the staged file."""
    hasher = _hasher_take(upload)
    if hasher is not None and hasher.name == algorithm:
        return f"{algorithm}:{hasher.hexdigest()}"
    return digest_file(storage.staging_path(upload.uuid), algorithm)


def upload_complete(*, upload: BlobUpload, digest: str, chunk: Chunk | None = None) -> Blob:
    """Append the optional final chunk, verify the digest, store the blob, link it, and close
    the session, all under the session's lock. On a digest mismatch the session is cancelled
    (as distribution does)."""
    expected = digest_parse(digest)
    with _session_locked(upload) as handle:
        if chunk is not None:
            _append_locked(upload, chunk, handle)
        actual = _staged_digest(upload, expected.algorithm)
        if actual != str(expected):
            upload_cancel(upload=upload)
            raise DigestInvalid({"digest": str(expected), "actual": actual})
        # Content-addressed: when the blob is already stored, blob_store keeps one copy.
        storage.blob_store(str(expected), storage.staging_path(upload.uuid))
        with transaction.atomic():
            blob = blob_register(digest=str(expected), size=upload.offset)
            blob_link(repository=upload.repository, blob=blob)
            BlobUpload.objects.filter(pk=upload.pk).delete()
    return blob


def upload_cancel(*, upload: BlobUpload) -> None:
    _hasher_drop(upload)
    storage.staging_delete(upload.uuid)
    BlobUpload.objects.filter(pk=upload.pk).delete()


def upload_expire(*, older_than) -> int:
    """Cancel sessions idle since before `older_than` and remove staged files no session owns.
    Returns how many sessions and stray files were removed."""
    removed = 0
    for upload in BlobUpload.objects.filter(updated_at__lt=older_than).iterator():
        upload_cancel(upload=upload)
        removed += 1
    live = {str(value) for value in BlobUpload.objects.values_list("uuid", flat=True)}
    cutoff = older_than.timestamp()
    for path in storage.staging_dir().iterdir():
        # Files only: other features (the mirror) keep their own subdirectories here.
        if path.is_file() and path.name not in live and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
