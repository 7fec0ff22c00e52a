"""Upload staging in the object store (registry_api.storage.s3_staging) on a real SeaweedFS: how
bytes become parts and segments, what a lost host leaves behind and how another host resumes,
and that abort and purge leave no multipart upload or object behind. The cases every staging
driver passes are in test_storage_conformance.py.
"""

from __future__ import annotations

import threading
import time
import tracemalloc
import uuid
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test import TestCase
from django.utils import timezone

from registry_api import storage
from registry_api.digests import digest_bytes
from registry_api.models import Blob, BlobUpload, S3Staging, S3StagingPart
from registry_api.services.blobs import blob_register
from registry_api.storage.s3_staging import PART_MIN, SEGMENTS_MAX, S3ObjectStaging
from tests.registry_api.conftest import bearer, push_access

pytestmark = pytest.mark.django_db

MIB = 1024 * 1024
DATA = bytes(range(251)) * (20 * MIB // 251)  # a prime period: misplaced bytes show


@pytest.fixture
def s3(s3_registry_storage, settings):
    """The S3 client and the key prefix the staging keeps its objects under."""
    location = settings.STORAGES["registry"]["OPTIONS"]["location"]
    return s3_registry_storage.client(), s3_registry_storage.bucket, f"{location}/uploads/"


@pytest.fixture
def staging(s3) -> S3ObjectStaging:
    chosen = storage.upload_staging()
    assert isinstance(chosen, S3ObjectStaging)
    return chosen


def _pieces(data: bytes, size: int = 64 * 1024):
    for start in range(0, len(data), size):
        yield data[start : start + size]


def _session(staging, data: bytes = b"") -> str:
    upload_id = str(uuid.uuid4())
    staging.create(upload_id)
    if data:
        with staging.locked(upload_id) as staged:
            staged.append(0, _pieces(data))
    return upload_id


def _row(upload_id) -> S3Staging:
    return S3Staging.objects.get(upload_id=upload_id)


def _parts(upload_id) -> list[tuple[int, int]]:
    return list(
        S3StagingPart.objects.filter(staging__upload_id=upload_id)
        .order_by("number")
        .values_list("start", "size")
    )


def _multipart_uploads(s3, under: str = "") -> list[dict]:
    client, bucket, prefix = s3
    return client.list_multipart_uploads(Bucket=bucket, Prefix=prefix + under).get("Uploads", [])


def _objects(s3, under: str = "") -> list[str]:
    client, bucket, prefix = s3
    listed = client.list_objects_v2(Bucket=bucket, Prefix=prefix + under)
    return [item["Key"] for item in listed.get("Contents", [])]


def _finalize(staging, upload_id, data: bytes) -> str:
    """Finalize and record the blob where finalizing left it, as a completed upload does."""
    digest = digest_bytes(data)
    with TestCase.captureOnCommitCallbacks(execute=True), transaction.atomic():
        with staging.locked(upload_id) as staged:
            name = staged.finalize(digest, storage.blobs())
        blob_register(digest=digest, size=len(data), storage_key=name)
    return digest


def _blob_key(s3, digest: str) -> str:
    """The bucket key a blob's row names (its bytes stay where they were staged)."""
    location = s3[2].removesuffix("uploads/")
    return location + Blob.objects.get(digest=digest).storage_key


def test_small_chunks_wait_in_segments_until_they_make_a_part(s3, staging):
    upload_id = _session(staging)
    chunk = 300 * 1024 + 1
    for index in range(10):  # 3 MiB in ten small chunks: under a part
        with staging.locked(upload_id) as staged:
            staged.append(index * chunk, [DATA[index * chunk : (index + 1) * chunk]])
    row = _row(upload_id)
    assert _parts(upload_id) == [] and row.multipart_id == ""
    assert [size for _, size in row.segments] == [chunk] * 10
    assert len(_objects(s3, upload_id)) == 10
    end = PART_MIN + 12345  # the next chunk brings enough: one part from offset 0
    with staging.locked(upload_id) as staged:
        assert staged.append(10 * chunk, _pieces(DATA[10 * chunk : end])) == end
    row = _row(upload_id)
    assert _parts(upload_id) == [(0, end)]
    assert row.segments == [] and row.offset == end
    assert _objects(s3, upload_id) == []  # the segments' objects are gone, read into the part
    assert len(_multipart_uploads(s3, upload_id)) == 1
    assert storage.blobs().size(_finalize(staging, upload_id, DATA[:end])) == end


def test_a_rewind_into_the_tail_keeps_every_segment_whole(s3, staging):
    """A segment object holds exactly its recorded bytes (the bytes kept from a cut segment are
    re-sent), so a small blob's one segment can become its sealed object as it is."""
    client, bucket, _ = s3
    upload_id = _session(staging)
    for start in (0, 1000, 2000):
        with staging.locked(upload_id) as staged:
            staged.append(start, [DATA[start : start + 1000]])
    with staging.locked(upload_id) as staged:
        assert staged.append(1500, [b"resumed"]) == 1507
    row = _row(upload_id)
    assert [size for _, size in row.segments] == [1000, 507]
    for key, size in row.segments:
        assert client.head_object(Bucket=bucket, Key=key)["ContentLength"] == size
    assert sorted(_objects(s3, upload_id)) == sorted(key for key, _ in row.segments)
    with staging.locked(upload_id) as staged:
        assert b"".join(staged.chunks()) == DATA[:1500] + b"resumed"
    small = _session(staging, b"a config blob")
    segment = _row(small).segments[0][0]
    with staging.locked(small) as staged:
        assert b"".join(staged.chunks()) == b"a config blob"
    assert _row(small).object_key == segment and _objects(s3, small) == [segment]


def test_many_tiny_chunks_keep_a_bounded_tail(staging):
    upload_id = _session(staging)
    for index in range(3 * SEGMENTS_MAX):
        with staging.locked(upload_id) as staged:
            staged.append(index * 1000, [DATA[index * 1000 : (index + 1) * 1000]])
    assert len(_row(upload_id).segments) <= SEGMENTS_MAX
    data = DATA[: 3 * SEGMENTS_MAX * 1000]
    with staging.locked(upload_id) as staged:
        assert b"".join(staged.chunks()) == data


def test_odd_sized_chunks_make_parts_no_smaller_than_s3_allows(s3, staging, settings):
    settings.UPLOAD_S3_PART_BYTES = 8 * MIB
    upload_id = _session(staging)
    cuts = [0, 3 * MIB + 1, 8 * MIB - 2, 15 * MIB + 17, 15 * MIB + 1251, len(DATA)]
    for start, end in zip(cuts, cuts[1:], strict=False):
        with staging.locked(upload_id) as staged:
            assert staged.append(start, _pieces(DATA[start:end], 100_003)) == end
    parts = _parts(upload_id)
    row = _row(upload_id)
    assert all(PART_MIN <= size <= 8 * MIB for _, size in parts)
    assert [start for start, _ in parts] == [
        sum(size for _, size in parts[:i]) for i in range(len(parts))
    ]
    assert sum(size for _, size in parts) + sum(size for _, size in row.segments) == len(DATA)
    digest = _finalize(staging, upload_id, DATA)
    assert digest_bytes(b"".join(storage.blobs().chunks(digest))) == digest
    assert _multipart_uploads(s3, upload_id) == []
    assert _objects(s3, upload_id) == [_blob_key(s3, digest)]


def test_finalizing_copies_nothing_the_blob_stays_where_it_was_staged(s3, staging):
    """The multipart upload is completed where it was staged and the Blob row names it: no
    CopyObject (it would cost the object store as much as the upload), small blobs neither."""
    operations: list[str] = []
    record = lambda model, **_: operations.append(model.name)  # noqa: E731
    staging.client.meta.events.register("before-call.s3", record)
    try:
        small = b"under a part"
        small_digest = _finalize(staging, _session(staging, small), small)
        data = DATA[: 13 * MIB]
        digest = _finalize(staging, _session(staging, data), data)
    finally:
        staging.client.meta.events.unregister("before-call.s3", record)
    assert "CompleteMultipartUpload" in operations
    assert not {"CopyObject", "UploadPartCopy"} & set(operations)
    for blob, content in ((small_digest, small), (digest, data)):
        key = Blob.objects.get(digest=blob).storage_key
        assert key.startswith("uploads/") and not S3Staging.objects.exists()
        assert b"".join(storage.blobs().chunks(blob)) == content
        assert storage.blobs().size(blob) == len(content) and storage.blobs().exists(blob)
    assert list(storage.blobs().digests()) == []  # nothing at a content address


def test_a_killed_host_leaves_the_session_resumable_from_another(s3, staging):
    """kill -9 mid-PATCH: its lock is never released, its part is uploaded but not recorded, its
    tail object is written but not named. Once the lease runs out another host resumes at the
    last recorded offset and the blob holds exactly the recorded bytes and the resumed ones."""
    client, bucket, _ = s3
    upload_id = _session(staging, DATA[: 6 * MIB])
    held = staging.locked(upload_id)
    held.__enter__()  # the killed host's request: never leaves
    row = _row(upload_id)
    client.upload_part(
        Bucket=bucket,
        Key=row.object_key,
        UploadId=row.multipart_id,
        PartNumber=row.next_part,
        Body=b"\xff" * PART_MIN,
    )
    client.put_object(Bucket=bucket, Key=f"{s3[2]}{upload_id}/segment-lost", Body=b"\xff")
    with pytest.raises(storage.StagingBusy), staging.locked(upload_id):
        pass  # the lease still runs
    S3Staging.objects.filter(upload_id=upload_id).update(
        lock_expires=timezone.now() - timedelta(seconds=1)
    )
    with staging.locked(upload_id) as staged:
        assert staged.append(6 * MIB, _pieces(DATA[6 * MIB : 13 * MIB])) == 13 * MIB
    digest = _finalize(staging, upload_id, DATA[: 13 * MIB])
    assert digest_bytes(b"".join(storage.blobs().chunks(digest))) == digest
    assert _multipart_uploads(s3, upload_id) == []
    assert _objects(s3, upload_id) == [_blob_key(s3, digest)]  # the lost tail is gone


@pytest.mark.django_db(transaction=True)  # the killed host is a thread with its own connection
def test_on_postgresql_a_killed_hosts_lock_is_free_at_once(staging, settings):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no connection to outlive: the lease runs out instead")
    settings.UPLOAD_S3_LEASE_SECONDS = 600
    upload_id = _session(staging, DATA[:MIB])
    held = threading.Event()

    def killed_host():
        staging.locked(upload_id).__enter__()  # never released
        held.set()
        connection.close()  # what the kernel does to a killed process's sockets

    thread = threading.Thread(target=killed_host)
    thread.start()
    thread.join(20)
    assert held.is_set()
    deadline = time.monotonic() + 10
    while True:  # the server notices the closed connection within moments
        try:
            with staging.locked(upload_id) as staged:
                assert staged.append(MIB, [b"resumed"]) == MIB + 7
            break
        except storage.StagingBusy:
            assert time.monotonic() < deadline, "the dead holder's lock was never freed"
            time.sleep(0.05)
    assert _row(upload_id).lock_token == ""


@pytest.mark.django_db(transaction=True)  # the stalled host is a thread with its own connection
def test_a_host_stalled_past_its_lease_can_no_longer_change_the_session(staging):
    upload_id = _session(staging, DATA[:MIB])
    stalled, resume = threading.Event(), threading.Event()
    outcome = []

    def body():
        yield DATA[MIB : 10 * MIB]  # past a part: one is uploaded, never recorded
        stalled.set()
        resume.wait(20)
        yield b"late bytes"

    def stalled_host():
        try:
            with staging.locked(upload_id) as staged:
                staged.append(MIB, body())
            outcome.append("appended")
        except storage.StagingBusy:
            outcome.append("busy")
        finally:
            connection.close()

    thread = threading.Thread(target=stalled_host)
    thread.start()
    assert stalled.wait(20)
    S3Staging.objects.filter(upload_id=upload_id).update(
        lock_expires=timezone.now() - timedelta(seconds=1)
    )
    with staging.locked(upload_id) as staged:  # the client retried on another host
        assert staged.append(MIB, _pieces(DATA[MIB : 12 * MIB])) == 12 * MIB
        resume.set()
        thread.join(20)
    assert outcome == ["busy"]
    digest = _finalize(staging, upload_id, DATA[: 12 * MIB])
    assert digest_bytes(b"".join(storage.blobs().chunks(digest))) == digest


def test_abort_removes_the_multipart_upload_and_every_object(s3, staging):
    upload_id = _session(staging, DATA[: 8 * MIB + 99])  # a part and a segment
    assert len(_multipart_uploads(s3, upload_id)) == 1 and len(_objects(s3, upload_id)) == 1
    staging.abort(upload_id)
    assert _multipart_uploads(s3, upload_id) == [] and _objects(s3, upload_id) == []
    assert not S3Staging.objects.filter(upload_id=upload_id).exists()


def test_purge_removes_stale_sessions_and_orphans_no_row_names(s3, staging):
    client, bucket, prefix = s3
    kept = _session(staging, DATA[: 6 * MIB])
    stale = _session(staging, DATA[: 6 * MIB])
    orphan = str(uuid.uuid4())  # a host killed before it recorded anything
    client.create_multipart_upload(Bucket=bucket, Key=f"{prefix}{orphan}/data-x")
    client.put_object(Bucket=bucket, Key=f"{prefix}{orphan}/segment-x", Body=b"x")
    assert staging.purge(keep={kept}, older_than=timezone.now() - timedelta(1)) == 0
    assert len(_multipart_uploads(s3)) == 3
    assert staging.purge(keep={kept}, older_than=timezone.now() + timedelta(1)) == 2
    assert [upload["Key"].split("/")[-2] for upload in _multipart_uploads(s3)] == [kept]
    assert _objects(s3, stale) == [] and _objects(s3, orphan) == []
    with staging.locked(kept) as staged:
        assert b"".join(staged.chunks()) == DATA[: 6 * MIB]


def test_memory_stays_bounded_whatever_the_chunk_size(staging, settings):
    settings.UPLOAD_S3_PART_BYTES = 16 * MIB  # past the in-memory spool: a part spills to disk
    upload_id = _session(staging)
    size = 64 * MIB
    piece = DATA[:MIB]
    tracemalloc.start()
    try:
        with staging.locked(upload_id) as staged:
            assert staged.append(0, (piece for _ in range(size // MIB))) == size
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 24 * MIB, peak


# Through the registry API -----------------------------------------------------------------------


def test_a_chunked_push_needs_no_staging_directory(client, public_repo, s3, settings, tmp_path):
    """Every chunk on "another host" (no hasher in memory), and no directory to stage in."""
    from registry_api.services import uploads as upload_services

    blocker = tmp_path / "not-a-directory"
    blocker.write_bytes(b"")
    settings.UPLOAD_STAGING_DIR = blocker / "uploads"  # nothing can be created there
    headers = bearer("alice", push_access("alice/app"))
    data = DATA[: 11 * MIB + 5]
    started = client.post("/v2/alice/app/blobs/uploads/", **headers)
    assert started.status_code == 202
    location = started["Location"]
    cuts = [0, 2 * MIB + 3, 9 * MIB - 1, len(data)]
    for start, end in zip(cuts, cuts[1:], strict=False):
        with upload_services._HASHERS_LOCK:
            upload_services._HASHERS.clear()
        response = client.patch(
            location,
            data=data[start:end],
            content_type="application/octet-stream",
            HTTP_CONTENT_RANGE=f"{start}-{end - 1}",
            **headers,
        )
        assert response.status_code == 202, response.content
        assert response["Range"] == f"0-{end - 1}"
    wrong = client.patch(
        location,
        data=b"x",
        content_type="application/octet-stream",
        HTTP_CONTENT_RANGE="5-5",
        **headers,
    )
    assert wrong.status_code == 416 and wrong["Range"] == f"0-{len(data) - 1}"
    status = client.get(location, **headers)
    assert status.status_code == 204 and status["Range"] == f"0-{len(data) - 1}"
    with upload_services._HASHERS_LOCK:
        upload_services._HASHERS.clear()
    BlobUpload.objects.update(hashed_digest="")  # the PUT's host re-reads the bucket
    digest = digest_bytes(data)
    with TestCase.captureOnCommitCallbacks(execute=True):  # the test's transaction never commits
        finished = client.put(f"{location}?digest={digest}", **headers)
    assert finished.status_code == 201, finished.content
    pulled = client.get(f"/v2/alice/app/blobs/{digest}", **headers)
    assert digest_bytes(b"".join(pulled.streaming_content)) == digest
    assert not blocker.is_dir() and _multipart_uploads(s3) == []
    assert _objects(s3) == [_blob_key(s3, digest)]  # the blob, where it was staged


def test_a_cancelled_push_leaves_nothing_in_the_bucket(client, public_repo, s3):
    headers = bearer("alice", push_access("alice/app"))
    location = client.post("/v2/alice/app/blobs/uploads/", **headers)["Location"]
    response = client.patch(
        location, data=DATA[: 7 * MIB], content_type="application/octet-stream", **headers
    )
    assert response.status_code == 202
    assert len(_multipart_uploads(s3)) == 1
    assert client.delete(location, **headers).status_code == 204
    assert _multipart_uploads(s3) == [] and _objects(s3) == []
    assert client.get(location, **headers).status_code == 404


def test_expired_sessions_leave_nothing_in_the_bucket(s3, staging, public_repo):
    from registry_api.services import uploads as upload_services
    from registry_api.services.uploads import Chunk

    idle = upload_services.upload_start(repository=public_repo)
    upload_services.upload_append(upload=idle, chunk=Chunk(chunks=_pieces(DATA[: 9 * MIB])))
    live = upload_services.upload_start(repository=public_repo)
    upload_services.upload_append(upload=live, chunk=Chunk(chunks=[b"still going"]))
    BlobUpload.objects.filter(pk=idle.pk).update(updated_at=timezone.now() - timedelta(days=2))
    assert upload_services.upload_expire(older_than=timezone.now() - timedelta(days=1)) == 1
    assert _multipart_uploads(s3, str(idle.uuid)) == [] and _objects(s3, str(idle.uuid)) == []
    assert not S3Staging.objects.filter(upload_id=str(idle.uuid)).exists()
    with staging.locked(live.uuid) as staged:
        assert b"".join(staged.chunks()) == b"still going"
