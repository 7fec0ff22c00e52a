"""On S3 a pushed blob stays where its upload was staged (`Blob.storage_key`): no copy at the
PUT. One copy per digest all the same, nothing lost to a host killed between completing the
multipart upload and committing the Blob row, and garbage collection, purge, pulls, redirects
and backups follow the recorded key. On a real SeaweedFS."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from registry_api import storage
from registry_api.digests import digest_bytes
from registry_api.models import Blob, BlobUpload, S3Staging
from registry_api.services import gc
from registry_api.services.backups import _blob_restore, _copy_blob, _storage_keys_clear
from registry_api.services.uploads import Chunk, upload_append, upload_complete, upload_start
from tests import factories

# Real commits: what a finalize leaves is deleted once its Blob row committed.
pytestmark = pytest.mark.django_db(transaction=True)

MIB = 1024 * 1024
DATA = bytes(range(251)) * (12 * MIB // 251)  # more than a part: a multipart upload


class Killed(Exception):
    """The process dies here: its transaction never commits."""


@pytest.fixture
def s3(s3_registry_storage, settings):
    """The S3 client, the bucket and the storage's key prefix."""
    location = settings.STORAGES["registry"]["OPTIONS"]["location"]
    return s3_registry_storage.client(), s3_registry_storage.bucket, f"{location}/"


@pytest.fixture
def other(alice):
    return factories.RepositoryFactory(namespace=alice.namespace, name="other")


def _keys(s3) -> list[str]:
    client, bucket, prefix = s3
    return sorted(
        item["Key"]
        for item in client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    )


def _multipart_uploads(s3) -> list[dict]:
    client, bucket, prefix = s3
    return client.list_multipart_uploads(Bucket=bucket, Prefix=prefix).get("Uploads", [])


def _pieces(data: bytes, size: int = 256 * 1024):
    for start in range(0, len(data), size):
        yield data[start : start + size]


def _push(repository, data: bytes = DATA) -> str:
    digest = digest_bytes(data)
    upload = upload_start(repository=repository)
    upload_append(upload=upload, chunk=Chunk(chunks=_pieces(data)))
    upload_complete(upload=upload, digest=digest)
    return digest


def _key(s3, digest: str) -> str:
    return s3[2] + Blob.objects.get(digest=digest).storage_key


def test_a_second_upload_of_a_stored_digest_keeps_the_first_copy_only(s3, public_repo, other):
    digest = _push(public_repo)
    first = Blob.objects.get(digest=digest).storage_key
    assert first.startswith("uploads/")
    _push(other)  # the same bytes again, from another repository
    blob = Blob.objects.get()
    assert blob.storage_key == first and blob.repository_links.count() == 2
    assert _keys(s3) == [_key(s3, digest)] and _multipart_uploads(s3) == []
    assert b"".join(storage.blobs().chunks(digest)) == DATA


def test_a_host_killed_between_complete_and_commit_loses_nothing(s3, public_repo):
    """The multipart upload is complete, the Blob row never committed: the session still names
    the object, the client's retried PUT finds it whole."""
    digest = digest_bytes(DATA)
    upload = upload_start(repository=public_repo)
    upload_append(upload=upload, chunk=Chunk(chunks=_pieces(DATA)))
    with pytest.raises(Killed), transaction.atomic():
        with storage.upload_staging().locked(upload.uuid) as staged:
            staged.finalize(digest, storage.blobs())
        raise Killed
    assert not Blob.objects.exists() and _multipart_uploads(s3) == []  # completed
    session = S3Staging.objects.get(upload_id=str(upload.uuid))  # as before the PUT
    completed = session.object_key
    assert _keys(s3) == sorted([completed, *(key for key, _ in session.segments)])

    blob = upload_complete(upload=upload, digest=digest)  # the retried PUT
    assert _keys(s3) == [s3[2] + blob.storage_key] == [completed]
    assert b"".join(storage.blobs().chunks(digest)) == DATA


def test_a_killed_hosts_completed_object_is_collected_once_its_session_expires(s3, public_repo):
    upload = upload_start(repository=public_repo)
    upload_append(upload=upload, chunk=Chunk(chunks=_pieces(DATA)))
    with pytest.raises(Killed), transaction.atomic():
        with storage.upload_staging().locked(upload.uuid) as staged:
            staged.finalize(digest_bytes(DATA), storage.blobs())
        raise Killed
    assert _keys(s3) and not Blob.objects.exists()
    BlobUpload.objects.update(updated_at=timezone.now() - timedelta(days=2))
    freed = gc.collect(cutoffs=gc.Cutoffs.now(upload_seconds=3600))
    assert freed.uploads_purged == 1 and not freed.errors
    assert _keys(s3) == [] and not S3Staging.objects.exists()


def test_purge_removes_objects_no_row_names_but_never_a_blob(s3, public_repo):
    client, bucket, prefix = s3
    digest = _push(public_repo)
    orphan = f"{prefix}uploads/{uuid.uuid4()}/data-orphan"  # e.g. a failed dedup delete
    client.put_object(Bucket=bucket, Key=orphan, Body=b"orphan")
    removed = storage.upload_staging().purge(keep=set(), older_than=timezone.now() + timedelta(1))
    assert removed == 1 and _keys(s3) == [_key(s3, digest)]
    assert b"".join(storage.blobs().chunks(digest)) == DATA


def test_gc_deletes_the_kept_object_and_a_digest_pushed_again_is_read_at_its_new_key(
    s3, public_repo
):
    digest = _push(public_repo)  # no manifest uses it
    old = _key(s3, digest)
    assert b"".join(storage.blobs().chunks(digest)) == DATA  # this process remembers the key
    assert old.split("/", 1)[1] in storage.blobs().redirect_url(digest)
    freed = gc.collect(cutoffs=gc.Cutoffs.now(grace_seconds=0))
    assert freed.blobs_freed == 1 and freed.storage_failures == 0 and not freed.errors
    assert _keys(s3) == [] and not storage.blobs().exists(digest)

    _push(public_repo)
    assert _key(s3, digest) != old
    assert b"".join(storage.blobs().chunks(digest)) == DATA  # the remembered key is stale
    assert b"".join(storage.blobs().range_chunks(digest, 5, 9)) == DATA[5:10]
    assert storage.blobs().size(digest) == len(DATA)


def test_a_backup_reads_the_kept_object_and_a_restore_stores_at_the_content_address(
    s3, public_repo, tmp_path
):
    digest = _push(public_repo)
    backed_up = tmp_path / storage.blob_path(digest)
    assert _copy_blob(digest, backed_up) == len(DATA)
    assert digest_bytes(backed_up.read_bytes()) == digest

    # Restoring into an instance whose database names keys of the backed-up bucket.
    _blob_restore(digest, backed_up)
    _storage_keys_clear()
    assert Blob.objects.get(digest=digest).storage_key == ""
    assert s3[2] + storage.blob_path(digest) in _keys(s3)
    storage.blobs().names.names.clear()  # another process: nothing remembered
    assert b"".join(storage.blobs().chunks(digest)) == DATA
