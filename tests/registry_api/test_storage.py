"""The protocol on each storage backend: the filesystem and real object stores (S3: SeaweedFS,
a Swift all-in-one, Azure: Azurite).

The driver contract itself is tests/registry_api/test_storage_conformance.py."""

from __future__ import annotations

import threading
import urllib.request

import pytest

from registry_api import storage
from registry_api.digests import digest_bytes
from registry_api.models import Blob
from tests.registry_api.conftest import bearer, blob_upload, push_access

pytestmark = pytest.mark.django_db

OCTETS = "application/octet-stream"


OBJECT_STORES = {
    "s3": "s3_registry_storage",
    "swift": "swift_registry_storage",
    "azure": "azure_registry_storage",
}


@pytest.fixture(params=["filesystem", *OBJECT_STORES])
def backend(request):
    if request.param in OBJECT_STORES:
        request.getfixturevalue(OBJECT_STORES[request.param])
    return request.param


def _staged(settings, name: str, data: bytes):
    settings.UPLOAD_STAGING_DIR.mkdir(parents=True, exist_ok=True)
    path = settings.UPLOAD_STAGING_DIR / name
    path.write_bytes(data)
    return path


def test_redirect_url_is_presigned_on_object_stores_and_none_on_the_filesystem(backend, settings):
    data = b"signed"
    digest = digest_bytes(data)
    storage.blobs().put_verified(digest, _staged(settings, "s", data))
    url = storage.blobs().redirect_url(digest)
    if backend == "filesystem":
        assert url is None
        return
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback object store
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
    assert storage.blobs().exists(digest)
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
    assert storage.blobs().exists(digest)


def test_blob_get_redirects_to_a_presigned_url_on_object_stores(
    backend, client, public_repo, settings
):
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


def test_missing_bytes_fail_before_streaming(backend, client, public_repo):
    headers = bearer("alice", [{"type": "repository", "name": "alice/app", "actions": ["*"]}])
    digest = blob_upload(client, "alice/app", b"soon gone", headers)
    # The bytes vanish from under their row (on S3 a pushed blob stays at its staging key).
    placed = Blob.objects.get(digest=digest).storage_key
    if placed:
        assert storage.blobs().delete_placed([placed]) == []
    else:
        storage.blobs().delete(digest)
    with pytest.raises(FileNotFoundError):
        storage.blobs().chunks(digest)
    with pytest.raises(FileNotFoundError):
        storage.blobs().range_chunks(digest, 0, 1)
    for extra in ({}, {"HTTP_RANGE": "bytes=0-1"}):
        response = client.get(f"/v2/alice/app/blobs/{digest}", **extra, **headers)
        assert response.status_code == 404
        assert response.json()["errors"][0]["code"] == "BLOB_UNKNOWN"


def test_delete_in_parallel_deletes_each_digest_once_and_returns_failures(caplog):
    deleted: list[str] = []
    lock = threading.Lock()

    def delete_one(digest: str) -> None:
        if digest.endswith("bad"):
            raise OSError("read-only")
        with lock:
            deleted.append(digest)

    digests = ["sha256:a", "sha256:b", "sha256:a", "sha256:bad", "sha256:b"]
    assert storage.delete_in_parallel(digests, delete_one, OSError) == ["sha256:bad"]
    assert sorted(deleted) == ["sha256:a", "sha256:b"]
    assert "could not delete sha256:bad" in caplog.text


def test_delete_in_parallel_lets_unexpected_errors_through():
    def delete_one(digest: str) -> None:
        raise ValueError(digest)

    with pytest.raises(ValueError):
        storage.delete_in_parallel(["sha256:a"], delete_one, OSError)
