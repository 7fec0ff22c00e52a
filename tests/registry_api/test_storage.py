"""The same storage cases against the filesystem and a real S3 server (SeaweedFS)."""

from __future__ import annotations

import urllib.request

import pytest

from registry_api import storage
from registry_api.digests import digest_bytes
from registry_api.models import Blob
from tests.registry_api.conftest import bearer, blob_upload, push_access

pytestmark = pytest.mark.django_db

OCTETS = "application/octet-stream"


@pytest.fixture(params=["filesystem", "s3"])
def backend(request):
    if request.param == "s3":
        request.getfixturevalue("s3_registry_storage")
    return request.param


def _staged(settings, name: str, data: bytes):
    settings.UPLOAD_STAGING_DIR.mkdir(parents=True, exist_ok=True)
    path = settings.UPLOAD_STAGING_DIR / name
    path.write_bytes(data)
    return path


def test_store_read_and_delete(backend, settings):
    data = b"stored content " * 100
    digest = digest_bytes(data)
    assert not storage.blob_exists(digest)
    staged = _staged(settings, "one", data)
    storage.blob_store(digest, staged)
    assert not staged.exists()
    assert storage.blob_exists(digest)
    assert storage.blob_size(digest) == len(data)
    assert b"".join(storage.blob_chunks(digest)) == data
    assert b"".join(storage.blob_range_chunks(digest, 15, 29)) == data[15:30]
    with storage.blob_open(digest) as handle:
        assert handle.read() == data
    storage.blob_delete(digest)
    assert not storage.blob_exists(digest)


def test_storing_an_existing_digest_keeps_one_copy(backend, settings):
    data = b"twice"
    digest = digest_bytes(data)
    storage.blob_store(digest, _staged(settings, "a", data))
    storage.blob_store(digest, _staged(settings, "b", data))
    assert b"".join(storage.blob_chunks(digest)) == data
    directories, files = storage.registry_storage().listdir(f"blobs/sha256/{digest[7:9]}")
    assert files == [digest[7:]]


def test_large_blob_goes_through_multipart(backend, settings):
    """12 MiB is over boto3's 8 MiB multipart threshold."""
    data = bytes(range(256)) * (12 * 4096)
    digest = digest_bytes(data)
    storage.blob_store(digest, _staged(settings, "big", data))
    assert storage.blob_size(digest) == len(data)
    assert digest_bytes(b"".join(storage.blob_chunks(digest))) == digest
    tail = b"".join(storage.blob_range_chunks(digest, len(data) - 10, len(data) - 1))
    assert tail == data[-10:]


def test_redirect_url_is_none_on_filesystem_and_serves_the_bytes_on_s3(backend, settings):
    data = b"signed"
    digest = digest_bytes(data)
    storage.blob_store(digest, _staged(settings, "s", data))
    url = storage.blob_redirect_url(digest)
    if backend == "filesystem":
        assert url is None
        return
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback S3
        assert response.read() == data


def test_push_and_pull_through_the_protocol(backend, client, public_repo):
    headers = bearer("alice", [{"type": "repository", "name": "alice/app", "actions": ["*"]}])
    data = b"layer bytes " * 1000
    location = client.post("/v2/alice/app/blobs/uploads/", **headers)["Location"]
    client.patch(location, data=data[:5000], content_type=OCTETS, **headers)
    client.patch(location, data=data[5000:], content_type=OCTETS, **headers)
    digest = digest_bytes(data)
    done = client.put(f"{location}?digest={digest}", **headers)
    assert done.status_code == 201
    assert storage.blob_exists(digest)
    head = client.head(f"/v2/alice/app/blobs/{digest}", **headers)
    assert head["Content-Length"] == str(len(data))
    response = client.get(f"/v2/alice/app/blobs/{digest}", **headers)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    ranged = client.get(f"/v2/alice/app/blobs/{digest}", HTTP_RANGE="bytes=100-199", **headers)
    assert ranged.status_code == 206
    assert b"".join(ranged.streaming_content) == data[100:200]
    # A second repository's identical upload shares the one stored copy.
    other = bearer("alice", push_access("alice/other"))
    assert blob_upload(client, "alice/other", data, other) == digest
    assert Blob.objects.filter(digest=digest).count() == 1
    assert client.delete(f"/v2/alice/app/blobs/{digest}", **headers).status_code == 202
    assert storage.blob_exists(digest)


def test_blob_get_redirects_to_a_presigned_url_on_s3(backend, client, public_repo, settings):
    settings.REGISTRY_BLOB_REDIRECT = True
    headers = bearer("alice", push_access("alice/app"))
    data = b"redirected"
    digest = blob_upload(client, "alice/app", data, headers)
    response = client.get(f"/v2/alice/app/blobs/{digest}", **headers)
    if backend == "filesystem":
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == data
        return
    assert response.status_code == 307
    assert response["Docker-Content-Digest"] == digest
    with urllib.request.urlopen(response["Location"], timeout=10) as fetched:  # noqa: S310
        assert fetched.read() == data


def test_blob_digests_walks_the_storage(backend, settings):
    assert list(storage.blob_digests()) == []
    digests = set()
    for index, data in enumerate([b"first", b"second"]):
        digests.add(digest_bytes(data))
        storage.blob_store(digest_bytes(data), _staged(settings, f"w{index}", data))
    assert set(storage.blob_digests()) == digests


def test_missing_bytes_fail_before_streaming(backend, client, public_repo):
    headers = bearer("alice", [{"type": "repository", "name": "alice/app", "actions": ["*"]}])
    digest = blob_upload(client, "alice/app", b"soon gone", headers)
    storage.blob_delete(digest)
    with pytest.raises(FileNotFoundError):
        storage.blob_chunks(digest)
    with pytest.raises(FileNotFoundError):
        storage.blob_range_chunks(digest, 0, 1)
    for extra in ({}, {"HTTP_RANGE": "bytes=0-1"}):
        response = client.get(f"/v2/alice/app/blobs/{digest}", **extra, **headers)
        assert response.status_code == 404
        assert response.json()["errors"][0]["code"] == "BLOB_UNKNOWN"
