"""Upload staging in the object store itself (STORAGE_BACKEND=s3): no web host needs a shared
directory, so a session's POST, PATCHes and PUT may each land on a different host.

A session's bytes are the parts of one S3 multipart upload, then a short tail of small
"segment" objects: S3 wants at least 5 MiB in every part but the last, so a chunk's bytes are cut
into parts of UPLOAD_S3_PART_BYTES and a remainder under 5 MiB waits in a segment until later
chunks bring enough bytes to make a part of it (read back once, then deleted). Which parts and
segments hold which offsets is recorded in the database (`S3Staging`, `S3StagingPart`), after
the bytes are in S3: an object or part the rows do not name is garbage, never data.

The parts of a multipart upload in progress cannot be read, so re-reading the bytes (to hash
them on a process that did not) first "seals" the session: the upload is completed into one
object. Finalizing seals too, and the sealed object becomes the blob where it is: the Blob row
names it (`Blob.storage_key`, an `uploads/<upload id>/…` key), and the rest of the staging is
deleted. No copy: a server-side copy to the content address costs the object store as much as
the upload. When the digest is stored already the caller deletes the new object instead. A host
killed after the seal and before the Blob row commits leaves the session row as it was before
the PUT (the seal's record and the session's end are in the Blob row's transaction, the
deletes of what the session leaves wait for its commit): the client's retried PUT finds the
completed object whole, else the session expires and is aborted with it. Purge never deletes
an object a Blob row names.

Locking is a lease on the session's row: a conditional UPDATE takes it (StagingBusy at once when
another holder's lease has not run out), the holder renews it while bytes flow, and every record
of new bytes is conditional on the holder's token, so a host that was killed or stalled past its
lease can no longer change the session. On PostgreSQL the row also names the holder's database
backend: a killed host's connection closes, and its lock is free at once. Part numbers are
handed out by the database, one each, so a stale holder cannot overwrite a part the next holder
recorded either.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta
from itertools import chain

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from registry_api.storage import (
    READ_CHUNK,
    BlobStore,
    StagedUpload,
    StagingBusy,
    StagingMissing,
    StorageUnavailable,
    UploadStaging,
)

logger = logging.getLogger(__name__)

# Every part of a multipart upload but the last must hold at least this much (S3's rule).
PART_MIN = 5 * 1024 * 1024
# A part being assembled stays in memory up to this size, past it in a local temporary file.
SPOOL_IN_MEMORY = 8 * 1024 * 1024
# Parts uploading while the next one fills: memory per request is (this + 1) parts at most.
# One stream to the object store runs at its per-request latency (SeaweedFS here: 55 MiB/s with
# 8 MiB parts one at a time, 157 MiB/s four at a time; bench/s3_parts.py).
PARTS_IN_FLIGHT = 4
# Segments a tail may have before a chunk re-uploads them as one (bounds the row and the reads).
SEGMENTS_MAX = 16
STAGING_PREFIX = "uploads"
CONTENT_TYPE = "application/octet-stream"


@contextmanager
def _s3_errors():
    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        raise StorageUnavailable(f"the object store refused staged bytes: {exc}") from exc


def _error_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def _spool():
    return tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 - caller closes


def _postgresql() -> bool:
    return connection.vendor == "postgresql"


def _backend_alive(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = %s)", [pid])
        return cursor.fetchone()[0]


def _models():
    from registry_api.models import S3Staging, S3StagingPart

    return S3Staging, S3StagingPart


class _Lease:
    """A holder's claim on a session row: renewed while it works, checked at every record."""

    def __init__(self, pk: int, token: str):
        self.pk = pk
        self.token = token
        self.seconds = settings.UPLOAD_S3_LEASE_SECONDS
        self.renewed = time.monotonic()

    def renew(self, **fields) -> None:
        """Extend the lease, writing `fields` with it; StagingBusy when it was lost."""
        S3Staging, _ = _models()
        expires = timezone.now() + timedelta(seconds=self.seconds)
        claimed = S3Staging.objects.filter(pk=self.pk, lock_token=self.token).update(
            lock_expires=expires, **fields
        )
        if not claimed:
            raise StagingBusy(f"the lease on upload staging {self.pk} was lost")
        self.renewed = time.monotonic()

    def renew_if_due(self) -> None:
        if time.monotonic() - self.renewed > self.seconds / 3:
            self.renew()

    def part_number(self) -> int:
        """A part number nobody has used for this session (renewing the lease)."""
        S3Staging, _ = _models()
        with transaction.atomic():
            self.renew(next_part=F("next_part") + 1)
            return (
                S3Staging.objects.filter(pk=self.pk).values_list("next_part", flat=True).get() - 1
            )


class _PartWriter:
    """Cuts a stream of bytes into parts of UPLOAD_S3_PART_BYTES, preceded by the session's
    pending segments; what is left under PART_MIN at the end becomes a new segment."""

    def __init__(self, staged: S3StagedUpload, pending: list[list], start: int):
        self.staged = staged
        self.pending = [list(segment) for segment in pending]  # [key, size] before the buffer
        self.pending_size = sum(size for _, size in self.pending)
        self.start = start  # offset of the first pending byte
        self.part_size = settings.UPLOAD_S3_PART_BYTES
        self.buffer = None
        self.buffered = 0
        self.parts: list[tuple[int, str, int, int]] = []  # (number, etag, start, size)
        self.in_flight: deque[tuple[Future, int, int, int]] = deque()
        self.pool: ThreadPoolExecutor | None = None
        self.consumed: list[str] = []  # segment keys whose bytes went into a part
        self.uploaded: list[str] = []  # segment objects this writer put

    def write(self, data) -> None:
        view = memoryview(data)
        while view:
            room = self.part_size - self.pending_size - self.buffered
            piece = view[:room]
            if self.buffer is None:
                self.buffer = _spool()
            self.buffer.write(piece)
            self.buffered += len(piece)
            view = view[len(piece) :]
            if self.pending_size + self.buffered >= self.part_size:
                self._flush_part()
        self.staged.lease.renew_if_due()

    def _take(self):
        """The pending segments' bytes and the buffer, as one seekable body (and its size)."""
        size = self.pending_size + self.buffered
        buffer, self.buffer, self.buffered = self.buffer, None, 0
        if self.pending:
            body = _spool()
            for key, length in self.pending:
                for chunk in self.staged.read(key, 0, length):
                    body.write(chunk)
            if buffer is not None:
                buffer.seek(0)
                shutil.copyfileobj(buffer, body, READ_CHUNK)
                buffer.close()
            self.consumed += [key for key, _ in self.pending]
            self.pending, self.pending_size = [], 0
        else:
            body = buffer if buffer is not None else _spool()
        body.seek(0)
        return body, size

    def _flush_part(self) -> None:
        """Send the part in the background while the next one fills (the request's database
        work stays on its own thread): the client's bytes keep flowing during the upload."""
        body, size = self._take()
        try:
            number = self.staged.part_begin()
            while len(self.in_flight) >= PARTS_IN_FLIGHT:
                self._collect()
        except BaseException:
            body.close()
            raise
        if self.pool is None:
            self.pool = ThreadPoolExecutor(PARTS_IN_FLIGHT, thread_name_prefix="s3-staging")
        future = self.pool.submit(self.staged.part_send, body, size, number)
        self.in_flight.append((future, number, self.start, size))
        self.start += size

    def _collect(self) -> None:
        future, number, start, size = self.in_flight.popleft()
        lease = self.staged.lease
        while True:  # a slow object store must not cost the lease
            try:
                etag = future.result(timeout=lease.seconds / 3)
                break
            except TimeoutError:
                lease.renew()
        self.parts.append((number, etag, start, size))

    def drain(self) -> None:
        """Wait for every part in flight (raising the first failure)."""
        try:
            while self.in_flight:
                self._collect()
        finally:
            if self.pool is not None:
                self.pool.shutdown(wait=True)

    def finish(self) -> None:
        if self.pending_size + self.buffered >= PART_MIN:
            self._flush_part()
        elif self.buffered:
            if len(self.pending) >= SEGMENTS_MAX:
                body, size = self._take()  # re-upload the tail as one segment
            else:
                body, size = self.buffer, self.buffered
                self.buffer, self.buffered = None, 0
                body.seek(0)
            with body:
                key = self.staged.put_segment(body, size)
            self.uploaded.append(key)
            self.pending.append([key, size])
            self.pending_size += size
        self.drain()

    def discard(self) -> None:
        if self.buffer is not None:
            self.buffer.close()
        if self.pool is not None:  # parts in flight end unrecorded: garbage
            self.pool.shutdown(wait=True, cancel_futures=True)
        self.staged.staging.delete_keys(self.uploaded)


class S3StagedUpload(StagedUpload):
    def __init__(self, staging: S3ObjectStaging, row, lease: _Lease):
        self.staging = staging
        self.row = row
        self.lease = lease
        self.client = staging.client
        self.bucket = staging.bucket
        self.created_multipart: tuple[str, str] | None = None  # by the append in progress

    # S3 requests ------------------------------------------------------------------------------

    def read(self, key: str, start: int, size: int) -> Iterator[bytes]:
        """Stream bytes [start, start + size) of an object."""
        if size <= 0:
            return
        with _s3_errors():
            body = self.client.get_object(
                Bucket=self.bucket, Key=key, Range=f"bytes={start}-{start + size - 1}"
            )["Body"]
        try:
            with _s3_errors():
                yield from body.iter_chunks(READ_CHUNK)
        finally:
            body.close()

    def put_segment(self, body, size: int, kind: str = "segment") -> str:
        key = self.staging.new_key(self.row.upload_id, kind)
        with _s3_errors():
            self.client.put_object(
                Bucket=self.bucket, Key=key, Body=body, ContentLength=size, ContentType=CONTENT_TYPE
            )
        return key

    def part_begin(self) -> int:
        """A new part's number (opening the multipart upload on the first one)."""
        row = self.row
        if not row.multipart_id:
            with _s3_errors():
                object_key = self.staging.new_key(row.upload_id, "data")
                row.multipart_id = self.client.create_multipart_upload(
                    Bucket=self.bucket, Key=object_key, ContentType=CONTENT_TYPE
                )["UploadId"]
            row.object_key = object_key
            self.created_multipart = (row.object_key, row.multipart_id)
        return self.lease.part_number()

    def part_send(self, body, size: int, number: int) -> str:
        """Upload one part (any thread: no database access); its ETag. Closes `body`."""
        with body, _s3_errors():
            return self.client.upload_part(
                Bucket=self.bucket,
                Key=self.row.object_key,
                UploadId=self.row.multipart_id,
                PartNumber=number,
                Body=body,
                ContentLength=size,
            )["ETag"]

    # The staged-upload interface --------------------------------------------------------------

    def append(self, offset: int, chunks: Iterable[bytes]) -> int:
        row = self.row
        if offset > row.offset:
            raise ValueError(f"append at {offset} past the staged end {row.offset}")
        segments_start = row.offset - sum(size for _, size in row.segments)
        if not row.sealed and offset < segments_start and self._part_boundary(offset) is None:
            self._seal()  # a rewind into a part: the kept bytes come back from one object
        old = {
            "object_key": row.object_key,
            "multipart_id": row.multipart_id,
            "segments": row.segments,
            "sealed": row.sealed,
        }
        carry: Iterable[bytes] = ()
        if row.sealed:  # start a new multipart upload with the kept bytes
            carry = self.read(row.object_key, 0, offset)
            row.object_key, row.multipart_id, row.sealed = "", "", False
            segments_start, pending = 0, []
        elif offset < segments_start:  # a rewind to where a part starts: drop it and the rest
            segments_start, pending = offset, []
        else:  # keep the tail up to `offset`; a segment cut there is re-sent (a segment
            # object always holds exactly its recorded bytes, so it can become the blob)
            pending, position = [], segments_start
            for key, size in row.segments:
                if position + size > offset:
                    carry = self.read(key, 0, offset - position)
                    break
                pending.append([key, size])
                position += size
        self.created_multipart = None
        writer = _PartWriter(self, pending, segments_start)
        try:
            for data in chain(carry, chunks):
                writer.write(data)
            writer.finish()
            end = writer.start + writer.pending_size
            self._record(writer, end, segments_start)
        except BaseException:
            writer.discard()
            if self.created_multipart:
                self.staging.abort_multipart(*self.created_multipart)
            row.object_key, row.multipart_id = old["object_key"], old["multipart_id"]
            row.segments, row.sealed = old["segments"], old["sealed"]
            raise
        kept = {key for key, _ in writer.pending}
        obsolete = [key for key, _ in old["segments"] if key not in kept]
        if old["sealed"] and old["object_key"] != row.object_key:
            obsolete.append(old["object_key"])
        self.staging.delete_keys(obsolete)
        return end

    def _part_boundary(self, offset: int) -> int | None:
        """`offset` when a recorded part starts there (the parts from it on can be dropped)."""
        _, S3StagingPart = _models()
        if offset == 0:
            return 0
        parts = S3StagingPart.objects.filter(staging_id=self.row.pk)
        return offset if parts.filter(start=offset).exists() else None

    def _record(self, writer: _PartWriter, end: int, kept_end: int) -> None:
        """The new bytes' parts and segments, recorded if this request still holds the lease."""
        _, S3StagingPart = _models()
        row = self.row
        with transaction.atomic():
            self.lease.renew(
                offset=end,
                object_key=row.object_key,
                multipart_id=row.multipart_id,
                sealed=False,
                segments=writer.pending,
                updated_at=timezone.now(),
            )
            S3StagingPart.objects.filter(staging_id=row.pk, start__gte=kept_end).delete()
            S3StagingPart.objects.bulk_create(
                S3StagingPart(staging_id=row.pk, number=number, etag=etag, start=start, size=size)
                for number, etag, start, size in writer.parts
            )
        row.offset, row.segments, row.sealed = end, writer.pending, False

    def _seal(self) -> None:
        """Complete the staged bytes into one readable object, `row.object_key`."""
        _, S3StagingPart = _models()
        row = self.row
        if row.sealed:
            return
        parts = list(row.parts.order_by("number").values_list("number", "etag"))
        tail = _PartWriter(self, row.segments, 0)
        if parts:
            key = row.object_key
            try:
                with _s3_errors():
                    if row.segments:  # the tail is the last part (which may be small)
                        body, size = tail._take()
                        number = self.part_begin()
                        parts.append((number, self.part_send(body, size, number)))
                    self.client.complete_multipart_upload(
                        Bucket=self.bucket,
                        Key=key,
                        UploadId=row.multipart_id,
                        MultipartUpload={
                            "Parts": [{"PartNumber": n, "ETag": etag} for n, etag in parts]
                        },
                    )
            except StorageUnavailable as exc:
                if not self._completed_before(exc.__cause__, key):
                    raise
        else:
            if len(row.segments) == 1:  # a small blob: its one segment is the object
                key = row.segments[0][0]
            else:  # under a part in several segments (or none): one object of them
                body, size = tail._take()
                with body:
                    key = self.put_segment(body, size, kind="data")
            if row.multipart_id:  # opened, but its parts were dropped by a rewind
                self.staging.abort_multipart(row.object_key, row.multipart_id)
        with transaction.atomic():
            self.lease.renew(object_key=key, multipart_id="", sealed=True, segments=[])
            S3StagingPart.objects.filter(staging_id=row.pk).delete()
        # The segments read into the object stay until the session ends (under its prefix): a
        # caller's transaction may yet roll this record back (a finalize whose host dies
        # before the Blob row commits), and then the row names them again.
        row.object_key, row.multipart_id, row.sealed, row.segments = key, "", True, []

    def _completed_before(self, error, key: str) -> bool:
        """A holder that died after completing the upload, before recording it, left the object
        whole: the upload is gone and the object holds exactly the staged bytes."""
        if not isinstance(error, ClientError) or _error_code(error) != "NoSuchUpload":
            return False
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError:
            return False
        return head["ContentLength"] == self.row.offset

    def chunks(self) -> Iterator[bytes]:
        self._seal()
        for chunk in self.read(self.row.object_key, 0, self.row.offset):
            self.lease.renew_if_due()
            yield chunk

    def finalize(self, digest: str, store: BlobStore) -> str:
        self._seal()
        self.lease.renew()
        key = self.row.object_key
        S3Staging, _ = _models()
        S3Staging.objects.filter(pk=self.row.pk).delete()
        # The rest of the session's objects go once the caller's Blob row committed: rolled
        # back (its host died), the session row names them again and the PUT can be retried.
        prefix = self.staging._prefix(self.row.upload_id)
        transaction.on_commit(lambda: self.staging._remove_under(prefix, keep=key), robust=True)
        return self.staging.name_of(key)


class S3ObjectStaging(UploadStaging):
    """Upload sessions staged under `uploads/<upload id>/` of the `registry` S3 storage."""

    def __init__(self, storage):
        self.storage = storage
        self.bucket = storage.bucket_name
        # boto3 clients are thread-safe; the storage's connection is per thread.
        self.client = storage.bucket.meta.client

    def _prefix(self, upload_id: str = "") -> str:
        root = self.storage._normalize_name(STAGING_PREFIX)
        return f"{root}/{upload_id}/" if upload_id else f"{root}/"

    def new_key(self, upload_id: str, kind: str) -> str:
        """A key never used before: an object is never overwritten while a row may name it."""
        return f"{self._prefix(upload_id)}{kind}-{uuid.uuid4().hex}"

    def _session_of(self, key: str) -> str:
        return key[len(self._prefix()) :].split("/", 1)[0]

    def name_of(self, key: str) -> str:
        """The storage name of a staged object's key (what a Blob row records)."""
        return f"{STAGING_PREFIX}/{key[len(self._prefix()) :]}"

    def create(self, upload_id) -> None:
        S3Staging, _ = _models()
        S3Staging.objects.get_or_create(upload_id=str(upload_id))

    @contextmanager
    def locked(self, upload_id) -> Iterator[S3StagedUpload]:
        S3Staging, _ = _models()
        upload_id = str(upload_id)
        token = secrets.token_hex(16)
        now = timezone.now()
        claim = {
            "lock_token": token,
            "lock_expires": now + timedelta(seconds=settings.UPLOAD_S3_LEASE_SECONDS),
            "lock_pid": RawSQL("pg_backend_pid()", ()) if _postgresql() else None,
        }
        sessions = S3Staging.objects.filter(upload_id=upload_id)
        claimed = sessions.filter(Q(lock_token="") | Q(lock_expires__lt=now)).update(**claim)
        if not claimed:
            holder = sessions.values_list("lock_token", "lock_pid").first()
            if holder is None:
                raise StagingMissing(upload_id)
            if not (_postgresql() and holder[1] and not _backend_alive(holder[1])):
                raise StagingBusy(upload_id)
            # The holder died (its connection is gone): take over, unless someone just did.
            if not sessions.filter(lock_token=holder[0]).update(**claim):
                raise StagingBusy(upload_id)
        row = sessions.filter(lock_token=token).first()
        if row is None:
            raise StagingMissing(upload_id)  # aborted, or lost already
        try:
            yield S3StagedUpload(self, row, _Lease(row.pk, token))
        finally:
            S3Staging.objects.filter(pk=row.pk, lock_token=token).update(
                lock_token="", lock_expires=None, lock_pid=None
            )

    def abort(self, upload_id) -> None:
        """Forget the session first (a holder can record nothing more), then remove every
        object and multipart upload under its prefix, recorded or not."""
        S3Staging, _ = _models()
        S3Staging.objects.filter(upload_id=str(upload_id)).delete()
        self._remove_under(self._prefix(str(upload_id)))

    def purge(self, *, keep: set[str], older_than: datetime) -> int:
        S3Staging, _ = _models()
        removed = 0
        stale = S3Staging.objects.filter(updated_at__lt=older_than).values_list(
            "upload_id", flat=True
        )
        for upload_id in list(stale):
            if upload_id not in keep:
                self.abort(upload_id)
                removed += 1
        # Leftovers no row names (a host killed before it recorded them), old enough.
        live = set(keep) | set(S3Staging.objects.values_list("upload_id", flat=True))
        orphans: set[str] = set()
        try:
            for key, upload, initiated in self._multipart_uploads(self._prefix()):
                session = self._session_of(key)
                if session not in live and initiated < older_than:
                    self.abort_multipart(key, upload)
                    orphans.add(session)
            old = [
                item["Key"]
                for item in self._objects(self._prefix())
                if self._session_of(item["Key"]) not in live and item["LastModified"] < older_than
            ]
        except (BotoCoreError, ClientError) as exc:
            logger.warning("upload purge: listing the staging prefix failed: %s", exc)
            return removed
        old = self._not_blobs(old)
        self.delete_keys(old)
        orphans |= {self._session_of(key) for key in old}
        return removed + len(orphans)

    def _not_blobs(self, keys: list[str]) -> list[str]:
        """The keys no Blob row names. Asked after the listing: a session that finalized since
        `live` was read is named by its Blob row now (the row commits with the session's end)."""
        from registry_api.models import Blob

        names = {self.name_of(key): key for key in keys}
        blobs: set[str] = set()
        listed = list(names)
        for start in range(0, len(listed), 1000):
            blobs |= set(
                Blob.objects.filter(storage_key__in=listed[start : start + 1000]).values_list(
                    "storage_key", flat=True
                )
            )
        return [key for name, key in names.items() if name not in blobs]

    # S3 housekeeping --------------------------------------------------------------------------

    def _multipart_uploads(self, prefix: str) -> Iterator[tuple[str, str, datetime]]:
        paginator = self.client.get_paginator("list_multipart_uploads")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for upload in page.get("Uploads", []):
                yield upload["Key"], upload["UploadId"], upload["Initiated"]

    def _objects(self, prefix: str) -> Iterator[dict]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            yield from page.get("Contents", [])

    def abort_multipart(self, key: str, upload: str) -> None:
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload)
        except ClientError as exc:
            if _error_code(exc) != "NoSuchUpload":
                logger.warning("could not abort multipart upload %s: %s", key, exc)
        except BotoCoreError as exc:
            logger.warning("could not abort multipart upload %s: %s", key, exc)

    def delete_keys(self, keys: Iterable[str]) -> None:
        """Best effort: what stays is under the staging prefix, for purge."""
        keys = list(dict.fromkeys(key for key in keys if key))
        for start in range(0, len(keys), 1000):
            batch = [{"Key": key} for key in keys[start : start + 1000]]
            try:
                self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                )
            except (BotoCoreError, ClientError) as exc:
                logger.warning("could not delete %d staged objects: %s", len(batch), exc)

    def _remove_under(self, prefix: str, keep: str = "") -> None:
        """Every object and multipart upload under `prefix` but the object `keep`."""
        try:
            for key, upload, _ in list(self._multipart_uploads(prefix)):
                self.abort_multipart(key, upload)
            self.delete_keys([item["Key"] for item in self._objects(prefix) if item["Key"] != keep])
        except (BotoCoreError, ClientError) as exc:
            logger.warning("could not remove staged objects under %s: %s", prefix, exc)
