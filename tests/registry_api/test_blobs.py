"""Blob GET/HEAD/DELETE through the protocol: links, ranges, errors, storage layout."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
from django.conf import settings

from registry_api.digests import digest_bytes
from registry_api.models import Blob
from tests.conftest import basic_auth
from tests.registry_api.conftest import bearer, blob_upload, pull_access, push_access

pytestmark = pytest.mark.django_db

DATA = bytes(range(256)) * 4  # 1024 bytes


@pytest.fixture
def alice_all(public_repo):
    return bearer("alice", [{"type": "repository", "name": "alice/app", "actions": ["*"]}])


@pytest.fixture
def digest(client, alice_all):
    return blob_upload(client, "alice/app", DATA, alice_all)


def _error_code(response) -> str:
    return response.json()["errors"][0]["code"]


def _body(response) -> bytes:
    # Consuming the content closes the response, as a WSGI server would.
    return b"".join(response.streaming_content)


def test_head_answers_length_digest_and_type_without_a_body(client, alice_all, digest):
    response = client.head(f"/v2/alice/app/blobs/{digest}", **alice_all)
    assert response.status_code == 200
    assert response["Content-Length"] == str(len(DATA))
    assert response["Docker-Content-Digest"] == digest
    assert response["Content-Type"] == "application/octet-stream"
    assert response.content == b""


def test_get_serves_the_bytes_with_digest_length_and_accept_ranges(client, alice_all, digest):
    response = client.get(f"/v2/alice/app/blobs/{digest}", **alice_all)
    assert response.status_code == 200
    assert response["Content-Length"] == str(len(DATA))
    assert response["Docker-Content-Digest"] == digest
    assert response["Accept-Ranges"] == "bytes"
    assert "Content-Disposition" not in response
    assert _body(response) == DATA


def test_anonymous_token_pulls_a_public_blob(client, digest):
    headers = bearer("", pull_access("alice/app"))
    assert _body(client.get(f"/v2/alice/app/blobs/{digest}", **headers)) == DATA


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [("bytes=0-0", 0, 0), ("bytes=10-19", 10, 19), ("bytes=1000-", 1000, 1023),
     ("bytes=-24", 1000, 1023), ("bytes=1000-5000", 1000, 1023)],
)  # fmt: skip
def test_range_request_answers_206_with_that_slice(client, alice_all, digest, header, start, end):
    response = client.get(f"/v2/alice/app/blobs/{digest}", HTTP_RANGE=header, **alice_all)
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {start}-{end}/{len(DATA)}"
    assert response["Content-Length"] == str(end - start + 1)
    assert response["Docker-Content-Digest"] == digest
    assert _body(response) == DATA[start : end + 1]


@pytest.mark.parametrize(
    "header", ["bytes=1024-", "bytes=20-10", "items=0-1", "bytes=0-1,4-5", "bytes=-", "bytes=x-"]
)
def test_bad_range_is_416(client, alice_all, digest, header):
    response = client.get(f"/v2/alice/app/blobs/{digest}", HTTP_RANGE=header, **alice_all)
    assert response.status_code == 416
    assert _error_code(response) == "RANGE_INVALID"
    assert response["Content-Range"] == f"bytes */{len(DATA)}"


@pytest.mark.parametrize("method", ["get", "head"])
def test_unknown_blob_is_404_blob_unknown(client, alice_all, public_repo, method):
    missing = digest_bytes(b"never pushed")
    response = getattr(client, method)(f"/v2/alice/app/blobs/{missing}", **alice_all)
    assert response.status_code == 404
    if method == "get":
        assert _error_code(response) == "BLOB_UNKNOWN"


@pytest.mark.parametrize(
    "bad", ["sha256:abc", "md5:" + "0" * 32, "sha256:" + "G" * 64, "nodigest", "sha256:" + "A" * 64]
)
def test_malformed_digest_is_400(client, alice_all, public_repo, bad):
    response = client.get(f"/v2/alice/app/blobs/{bad}", **alice_all)
    assert response.status_code == 400
    assert _error_code(response) == "DIGEST_INVALID"


def test_blob_is_readable_only_through_a_link(client, alice, digest):
    """The bytes exist, but alice/other never pushed or mounted them."""
    headers = bearer("alice", push_access("alice/other"))
    blob_upload(client, "alice/other", b"something else", headers)
    response = client.get(f"/v2/alice/other/blobs/{digest}", **headers)
    assert response.status_code == 404
    assert _error_code(response) == "BLOB_UNKNOWN"


def test_private_blob_looks_absent_to_outsiders(client, private_repo, charlie):
    data = b"secret layer"
    digest = blob_upload(client, "alice/secret", data, bearer("alice", push_access("alice/secret")))
    auth = basic_auth("charlie")
    hidden = client.get(f"/v2/alice/secret/blobs/{digest}", HTTP_AUTHORIZATION=auth)
    absent = client.get(f"/v2/alice/nothing/blobs/{digest}", HTTP_AUTHORIZATION=auth)
    assert hidden.status_code == absent.status_code == 401
    assert hidden.content == absent.content
    bob = client.get(f"/v2/alice/secret/blobs/{digest}", HTTP_AUTHORIZATION=basic_auth("bob"))
    assert _body(bob) == data


def test_delete_unlinks_from_this_repository_only(client, alice, alice_all, digest):
    other = bearer("alice", push_access("alice/other"))
    blob_upload(client, "alice/other", DATA, other)
    response = client.delete(f"/v2/alice/app/blobs/{digest}", **alice_all)
    assert response.status_code == 202
    assert response["Docker-Content-Digest"] == digest
    assert client.head(f"/v2/alice/app/blobs/{digest}", **alice_all).status_code == 404
    assert _body(client.get(f"/v2/alice/other/blobs/{digest}", **other)) == DATA
    again = client.delete(f"/v2/alice/app/blobs/{digest}", **alice_all)
    assert again.status_code == 404
    assert _error_code(again) == "BLOB_UNKNOWN"


def test_delete_needs_the_delete_action(client, digest, bob):
    response = client.delete(
        f"/v2/alice/app/blobs/{digest}", **bearer("bob", pull_access("alice/app"))
    )
    assert response.status_code == 403
    assert _error_code(response) == "DENIED"


def test_storage_is_content_addressed_and_sharded(client, alice, alice_all, digest):
    root = Path(settings.STORAGES["registry"]["OPTIONS"]["location"])
    hex_ = digest.split(":", 1)[1]
    path = root / "blobs" / "sha256" / hex_[:2] / hex_
    assert path.read_bytes() == DATA
    blob_upload(client, "alice/other", DATA, bearer("alice", push_access("alice/other")))
    assert [p for p in root.rglob("*") if p.is_file()] == [path]
    assert Blob.objects.get().size == len(DATA)


def test_missing_bytes_answer_blob_unknown(client, alice_all, digest):
    root = Path(settings.STORAGES["registry"]["OPTIONS"]["location"])
    hex_ = digest.split(":", 1)[1]
    (root / "blobs" / "sha256" / hex_[:2] / hex_).unlink()
    response = client.get(f"/v2/alice/app/blobs/{digest}", **alice_all)
    assert response.status_code == 404
    assert _error_code(response) == "BLOB_UNKNOWN"


def test_redirect_is_not_used_on_the_filesystem(client, alice_all, digest, settings):
    settings.REGISTRY_BLOB_REDIRECT = True
    response = client.get(f"/v2/alice/app/blobs/{digest}", **alice_all)
    assert response.status_code == 200
    assert _body(response) == DATA


def test_download_streams_in_constant_memory(client, alice_all):
    size = 32 * 1024 * 1024
    digest = blob_upload(client, "alice/app", b"\1" * size, alice_all)
    tracemalloc.start()
    try:
        response = client.get(f"/v2/alice/app/blobs/{digest}", **alice_all)
        total = sum(len(chunk) for chunk in response.streaming_content)
        ranged = client.get(f"/v2/alice/app/blobs/{digest}", HTTP_RANGE="bytes=1-", **alice_all)
        total_ranged = sum(len(chunk) for chunk in ranged.streaming_content)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == size and total_ranged == size - 1
    assert peak < 8 * 1024 * 1024


# Garbage collection ----------------------------------------------------------------------------


def _gc(*args) -> str:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("garbage_collect", *args, stdout=out)
    return out.getvalue()


def test_garbage_collect_deletes_unlinked_blobs_after_grace(client, alice_all, digest):
    from registry_api import storage
    from tests.registry_api.conftest import image_push

    image_push(client, "alice/app", "v1", layer=b"still used")  # a manifest keeps its blobs
    kept = digest_bytes(b"still used")
    client.delete(f"/v2/alice/app/blobs/{digest}", **alice_all)
    # Within the grace period nothing goes.
    assert "freed 0 blob(s)" in _gc()
    assert f"would free 1 blob(s) ({len(DATA)} bytes" in _gc("--grace-seconds=0", "--dry-run")
    assert storage.blobs().exists(digest)
    output = _gc("--grace-seconds=0")
    assert f"freed 1 blob(s) ({len(DATA)} bytes" in output
    assert not storage.blobs().exists(digest) and not Blob.objects.filter(digest=digest).exists()
    assert storage.blobs().exists(kept)


def test_garbage_collect_expires_stale_uploads_and_orphans(client, alice_all, digest):
    import os

    from registry_api import storage
    from registry_api.models import BlobUpload

    location = client.post("/v2/alice/app/blobs/uploads/", **alice_all)["Location"]
    session_id = location.rsplit("/", 1)[1]
    stray = settings.UPLOAD_STAGING_DIR / "stray"
    stray.write_bytes(b"left by a crash")
    os.utime(stray, (0, 0))
    (settings.UPLOAD_STAGING_DIR / "proxy").mkdir()
    # The stray file is old; the live session is not.
    assert "freed 1 stale" in _gc()
    assert not stray.exists() and (settings.UPLOAD_STAGING_DIR / session_id).exists()
    BlobUpload.objects.update(updated_at="2000-01-01T00:00Z")
    assert "freed 1 stale" in _gc()
    assert not (settings.UPLOAD_STAGING_DIR / session_id).exists()
    assert client.get(location, **alice_all).status_code == 404
    # Bytes without a row (a crash between store and register).
    Blob.objects.filter(digest=digest).delete()
    assert "deleted 1 orphaned" in _gc("--orphans")
    assert not storage.blobs().exists(digest)
