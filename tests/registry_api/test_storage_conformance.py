"""The cases every storage driver must pass, run unchanged on each implementation (as CNCF
Distribution runs one suite on each of its storage drivers).

`store` is the blob store of the parametrized backend: the filesystem, django-storages' S3
backend on a real SeaweedFS, django-storage-swift on a Swift all-in-one and django-storages'
Azure backend on Azurite (each skipped when its server's binaries are missing). `staging` is
each upload-staging driver, finalizing into the store it is deployed with: the bucket itself
(multipart uploads) for S3, a shared directory for the others.
"""

from __future__ import annotations

import threading
import urllib.request
import uuid
from datetime import timedelta

import pytest
from django.core.files.storage import storages
from django.db import transaction
from django.test import TestCase
from django.utils import timezone

from registry_api import storage
from registry_api.digests import digest_bytes
from registry_api.errors import DigestInvalid, RangeInvalid
from registry_api.models import Blob, BlobUpload
from registry_api.services import uploads as upload_services
from registry_api.services.blobs import blob_register
from registry_api.services.uploads import Chunk
from registry_api.storage.s3_staging import S3ObjectStaging
from registry_api.storage.staging import FileSystemStaging

pytestmark = pytest.mark.django_db

DATA = bytes(range(256)) * 40  # 10 KiB, every byte value


OBJECT_STORES = {
    "s3": "s3_registry_storage",
    "swift": "swift_registry_storage",
    "azure": "azure_registry_storage",
}


@pytest.fixture(params=["filesystem", *OBJECT_STORES])
def backend(request, settings) -> str:
    """The storage backend a case runs on: its blob store and the staging deployed with it."""
    if request.param in OBJECT_STORES:
        request.getfixturevalue(OBJECT_STORES[request.param])
    # Small Swift segments, so the large-blob case is a Static Large Object.
    settings.SWIFT_SEGMENT_SIZE = 5 * 1024 * 1024
    return request.param


@pytest.fixture
def store(backend) -> storage.BlobStore:
    return storage.blobs()


@pytest.fixture
def staging(backend) -> storage.UploadStaging:
    chosen = storage.upload_staging()
    assert isinstance(chosen, S3ObjectStaging if backend == "s3" else FileSystemStaging)
    return chosen


def _put(store, settings, data: bytes) -> str:
    settings.UPLOAD_STAGING_DIR.mkdir(parents=True, exist_ok=True)
    staged = settings.UPLOAD_STAGING_DIR / f"put-{uuid.uuid4().hex}"
    staged.write_bytes(data)
    digest = digest_bytes(data)
    store.put_verified(digest, staged)
    assert not staged.exists()  # consumed
    return digest


def _staged_session(staging, data: bytes = b"") -> str:
    upload_id = str(uuid.uuid4())
    staging.create(upload_id)
    if data:
        with staging.locked(upload_id) as staged:
            assert staged.append(0, [data]) == len(data)
    return upload_id


def _missing(staging, upload_id) -> bool:
    try:
        with staging.locked(upload_id):
            return False
    except storage.StagingMissing:
        return True


def _read_back(staging, upload_id) -> bytes:
    with staging.locked(upload_id) as staged:
        return b"".join(staged.chunks())


# Blob store -----------------------------------------------------------------------------------


def test_delete_many_removes_every_blob_and_reports_no_failure(store, settings):
    digests = [_put(store, settings, DATA + bytes([i])) for i in range(5)]
    missing = digest_bytes(b"never stored")  # already gone counts as removed
    assert store.delete_many([*digests[:4], missing]) == []
    assert [store.exists(digest) for digest in digests] == [False] * 4 + [True]
    assert store.delete_many([]) == []
    assert list(store.digests()) == [digests[4]]


def test_put_exists_stat_open_range_delete(store, settings):
    digest = digest_bytes(DATA)
    assert not store.exists(digest)
    assert _put(store, settings, DATA) == digest
    assert store.exists(digest)
    assert store.size(digest) == len(DATA)
    with store.open(digest) as handle:
        assert handle.read() == DATA
    assert b"".join(store.chunks(digest)) == DATA
    assert b"".join(store.range_chunks(digest, 0, 0)) == DATA[:1]
    assert b"".join(store.range_chunks(digest, 15, 29)) == DATA[15:30]
    assert b"".join(store.range_chunks(digest, 1000, 4999)) == DATA[1000:5000]
    assert b"".join(store.range_chunks(digest, len(DATA) - 3, len(DATA) - 1)) == DATA[-3:]
    store.delete(digest)
    assert not store.exists(digest)


def test_a_missing_blob_fails_every_read_before_streaming(store, settings):
    digest = digest_bytes(b"never stored")
    with pytest.raises(FileNotFoundError):
        store.size(digest)
    with pytest.raises(FileNotFoundError):
        store.open(digest)
    with pytest.raises(FileNotFoundError):
        store.chunks(digest)
    with pytest.raises(FileNotFoundError):
        store.range_chunks(digest, 0, 1)
    store.delete(digest)  # deleting what is absent is not an error
    assert not store.exists(digest)


def test_storing_a_present_digest_keeps_one_copy(store, settings):
    digest = _put(store, settings, DATA)
    assert _put(store, settings, DATA) == digest
    assert list(store.digests()) == [digest]
    assert b"".join(store.chunks(digest)) == DATA
    directories, files = storages["registry"].listdir(f"blobs/sha256/{digest[7:9]}")
    # One entry in the shard, the blob (Azure's listdir gives full names, and Swift's takes a
    # name without a dot for a directory).
    assert [name.rsplit("/", 1)[-1] for name in directories + files] == [digest[7:]]


def test_digests_iterates_every_stored_blob(store, settings):
    assert list(store.digests()) == []
    stored = {_put(store, settings, data) for data in (b"one", b"two", b"three")}
    assert set(store.digests()) == stored
    store.delete(digest_bytes(b"two"))
    assert set(store.digests()) == stored - {digest_bytes(b"two")}


def test_a_large_blob_round_trips(store, settings):
    """12 MiB is past boto3's 8 MiB multipart threshold, the test's 5 MiB Swift segments, its
    4 MiB Azure blocks and the 4 MiB chunks of an Azure download."""
    data = bytes(range(256)) * (12 * 4096)
    digest = _put(store, settings, data)
    assert store.size(digest) == len(data)
    assert digest_bytes(b"".join(store.chunks(digest))) == digest
    assert b"".join(store.range_chunks(digest, len(data) - 10, len(data) - 1)) == data[-10:]


def test_redirect_url_is_none_or_serves_the_blob(store, settings):
    digest = _put(store, settings, DATA)
    url = store.redirect_url(digest)
    if url is None:
        assert store.open_local(digest) is not None  # served from a local file instead
        return
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback object store
        assert response.read() == DATA


def test_open_local_is_a_real_file_or_none(store, settings):
    digest = _put(store, settings, DATA)
    local = store.open_local(digest)
    if local is None:
        assert store.redirect_url(digest) is not None
        return
    with local:
        assert local.fileno() >= 0
        assert local.read() == DATA


def test_a_failed_put_leaves_nothing_visible(store, settings):
    digest = digest_bytes(DATA)
    with pytest.raises(FileNotFoundError):
        store.put_verified(digest, settings.UPLOAD_STAGING_DIR / "gone")
    assert not store.exists(digest)
    assert list(store.digests()) == []


# Upload staging -------------------------------------------------------------------------------


def test_staging_appends_at_offsets_and_reads_back(staging):
    upload_id = _staged_session(staging)
    with staging.locked(upload_id) as staged:
        assert staged.append(0, [DATA[:100], DATA[100:300]]) == 300
        assert staged.append(300, [DATA[300:]]) == len(DATA)
        assert b"".join(staged.chunks()) == DATA
    # An append at an earlier offset replaces what followed it (a client resuming).
    with staging.locked(upload_id) as staged:
        assert staged.append(10, [b"x" * 5]) == 15
    assert _read_back(staging, upload_id) == DATA[:10] + b"x" * 5


def test_a_broken_append_leaves_the_session_at_its_offset(store, staging):
    upload_id = _staged_session(staging, b"kept")

    def breaks():
        yield b"half of a chunk"
        raise ConnectionError("client went away")

    with staging.locked(upload_id) as staged, pytest.raises(ConnectionError):
        staged.append(4, breaks())
    assert _read_back(staging, upload_id) == b"kept"
    assert not store.exists(digest_bytes(b"kepthalf of a chunk"))


@pytest.mark.django_db(transaction=True)  # the racing thread has its own connection
def test_a_held_session_is_busy_for_everyone_else(staging):
    upload_id = _staged_session(staging, b"abc")
    outcome = []

    def racing_retry():
        try:
            with staging.locked(upload_id):
                outcome.append("locked")
        except storage.StagingBusy:
            outcome.append("busy")

    with staging.locked(upload_id):
        thread = threading.Thread(target=racing_retry)
        thread.start()
        thread.join(10)
        with pytest.raises(storage.StagingBusy), staging.locked(upload_id):
            pass
    assert outcome == ["busy"]
    with staging.locked(upload_id) as staged:  # released: the next request proceeds
        assert b"".join(staged.chunks()) == b"abc"


def test_abort_drops_the_staged_bytes(staging):
    upload_id = _staged_session(staging, b"abandoned")
    staging.abort(upload_id)
    staging.abort(upload_id)  # idempotent
    assert _missing(staging, upload_id)
    assert _missing(staging, str(uuid.uuid4()))  # never created


def _finalize_and_register(staging, store, upload_id, digest: str, size: int = len(DATA)) -> str:
    """What a completed upload does: finalize, record the Blob row with where its bytes are,
    drop a second copy; the storage name the finalize returned."""
    with TestCase.captureOnCommitCallbacks(execute=True), transaction.atomic():
        with staging.locked(upload_id) as staged:
            name = staged.finalize(digest, store)
        blob = blob_register(digest=digest, size=size, storage_key=name)
    if name and blob.storage_key != name:
        assert store.delete_placed([name]) == []
    return name


def test_finalize_moves_the_bytes_into_the_store(store, staging):
    upload_id = _staged_session(staging, DATA)
    digest = digest_bytes(DATA)
    assert not store.exists(digest)  # staged bytes are not a blob
    first = _finalize_and_register(staging, store, upload_id, digest)
    assert b"".join(store.chunks(digest)) == DATA
    assert _missing(staging, upload_id)
    # A second session with the same bytes ends on the one stored copy: at the content address,
    # or where the first session staged it (S3).
    again = _staged_session(staging, DATA)
    _finalize_and_register(staging, store, again, digest)
    assert list(store.digests()) == ([] if first else [digest])
    assert Blob.objects.get(digest=digest).storage_key == first
    assert b"".join(store.chunks(digest)) == DATA


def test_purge_removes_only_old_stagings_nobody_keeps(staging):
    kept = _staged_session(staging, b"live")
    stray = _staged_session(staging, b"stray")
    assert staging.purge(keep={kept, stray}, older_than=timezone.now() + timedelta(1)) == 0
    assert staging.purge(keep={kept}, older_than=timezone.now() - timedelta(1)) == 0
    assert staging.purge(keep={kept}, older_than=timezone.now() + timedelta(1)) == 1
    assert _read_back(staging, kept) == b"live"
    assert _missing(staging, stray)


# The upload service on each driver --------------------------------------------------------------


def test_upload_service_wrong_offset_and_racing_retry(store, staging, public_repo):
    upload = upload_services.upload_start(repository=public_repo)
    upload_services.upload_append(upload=upload, chunk=Chunk(chunks=[b"abc"], length=3))
    with pytest.raises(RangeInvalid):
        upload_services.upload_append(upload=upload, chunk=Chunk(chunks=[b"x"], start=0, end=0))
    with staging.locked(upload.uuid), pytest.raises(RangeInvalid):
        upload_services.upload_append(upload=upload, chunk=Chunk(chunks=[b"def"], start=3))
    assert BlobUpload.objects.get(pk=upload.pk).offset == 3
    blob = upload_services.upload_complete(
        upload=upload, digest=digest_bytes(b"abcdef"), chunk=Chunk(chunks=[b"def"], start=3)
    )
    assert b"".join(store.chunks(blob.digest)) == b"abcdef"


def test_unverified_content_never_becomes_a_blob(store, staging, public_repo):
    upload = upload_services.upload_start(repository=public_repo)
    upload_services.upload_append(upload=upload, chunk=Chunk(chunks=[b"tampered"]))
    claimed = digest_bytes(b"original")
    with pytest.raises(DigestInvalid):
        upload_services.upload_complete(upload=upload, digest=claimed)
    assert not store.exists(claimed) and not store.exists(digest_bytes(b"tampered"))
    assert list(store.digests()) == []


def _pieces(data: bytes, size: int = 64 * 1024):
    """A request body as the server reads it: in pieces."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


MIB = 1024 * 1024
LARGE = bytes(range(251)) * (13 * MIB // 251)  # 13 MiB, a prime period: misplaced bytes show


def test_a_large_upload_in_odd_sized_chunks_reads_back_and_finalizes(store, staging):
    upload_id = _staged_session(staging)
    cuts = [0, 3 * MIB + 1, 8 * MIB - 2, 8 * MIB + 17, 12 * MIB + 5, len(LARGE)]
    for start, end in zip(cuts, cuts[1:], strict=False):
        with staging.locked(upload_id) as staged:
            assert staged.append(start, _pieces(LARGE[start:end])) == end
    digest = digest_bytes(LARGE)
    with staging.locked(upload_id) as staged:
        assert digest_bytes(b"".join(staged.chunks())) == digest
    _finalize_and_register(staging, store, upload_id, digest, len(LARGE))
    assert store.size(digest) == len(LARGE)
    assert digest_bytes(b"".join(store.chunks(digest))) == digest
    assert _missing(staging, upload_id)


def test_a_rewind_into_a_large_session_replaces_what_followed(staging):
    """A client resuming from an earlier offset (its previous answer was lost)."""
    upload_id = _staged_session(staging, LARGE[: 11 * MIB])
    with staging.locked(upload_id) as staged:
        assert staged.append(7 * MIB + 3, [b"resumed"]) == 7 * MIB + 10
    assert _read_back(staging, upload_id) == LARGE[: 7 * MIB + 3] + b"resumed"


@pytest.mark.django_db(transaction=True)  # each "host" is a thread with its own connection
def test_two_hosts_locking_at_once_one_wins(staging):
    from django.db import connection

    if connection.vendor == "sqlite" and isinstance(staging, S3ObjectStaging):
        # S3 sessions are locked by a row: the in-memory test database refuses a second writer
        # ("table is locked") instead of waiting as a database file does. Several hosts mean
        # PostgreSQL anyway (the multi-host proof); filesystem sessions lock a file.
        pytest.skip("needs a database that takes concurrent writers")
    upload_id = _staged_session(staging, b"abc")
    barrier = threading.Barrier(2, timeout=10)
    release = threading.Event()
    outcome = []

    def host():
        try:
            barrier.wait()
            with staging.locked(upload_id):
                outcome.append("locked")
                release.wait(10)
        except storage.StagingBusy:
            outcome.append("busy")
            release.set()
        finally:
            connection.close()

    hosts = [threading.Thread(target=host) for _ in range(2)]
    for thread in hosts:
        thread.start()
    for thread in hosts:
        thread.join(20)
    assert sorted(outcome) == ["busy", "locked"]
    assert _read_back(staging, upload_id) == b"abc"  # and released afterwards


def _other_host():
    """What another web process knows of a session: nothing but the database and storage."""
    with upload_services._HASHERS_LOCK:
        upload_services._HASHERS.clear()


def test_chunks_on_different_hosts_are_verified_by_one_re_read(store, staging, public_repo):
    upload = upload_services.upload_start(repository=public_repo)
    half = 6 * MIB + 7
    upload_services.upload_append(upload=upload, chunk=Chunk(chunks=_pieces(LARGE[:half])))
    _other_host()
    upload = BlobUpload.objects.get(pk=upload.pk)
    upload_services.upload_append(upload=upload, chunk=Chunk(chunks=_pieces(LARGE[half:])))
    assert BlobUpload.objects.get(pk=upload.pk).hashed_digest == ""  # this host saw half
    _other_host()
    upload = BlobUpload.objects.get(pk=upload.pk)
    blob = upload_services.upload_complete(upload=upload, digest=digest_bytes(LARGE))
    assert digest_bytes(b"".join(store.chunks(blob.digest))) == digest_bytes(LARGE)
    assert not BlobUpload.objects.filter(pk=upload.pk).exists()


def test_a_put_on_another_host_uses_the_digest_the_last_chunk_recorded(store, staging, public_repo):
    data = LARGE[: 6 * MIB]
    upload = upload_services.upload_start(repository=public_repo)
    upload_services.upload_append(upload=upload, chunk=Chunk(chunks=_pieces(data)))
    assert BlobUpload.objects.get(pk=upload.pk).hashed_digest == digest_bytes(data)
    _other_host()
    blob = upload_services.upload_complete(
        upload=BlobUpload.objects.get(pk=upload.pk), digest=digest_bytes(data)
    )
    assert b"".join(store.chunks(blob.digest)) == data
    # The recorded digest is what the PUT checks (no re-read): a record that disagrees wins.
    upload = upload_services.upload_start(repository=public_repo)
    upload_services.upload_append(upload=upload, chunk=Chunk(chunks=[b"abc"]))
    BlobUpload.objects.filter(pk=upload.pk).update(hashed_digest=digest_bytes(b"abd"))
    _other_host()
    with pytest.raises(DigestInvalid):
        upload_services.upload_complete(
            upload=BlobUpload.objects.get(pk=upload.pk), digest=digest_bytes(b"abc")
        )
