"""Blob uploads through the protocol: start, monolithic, chunked, resume, finish, cancel, mount."""

from __future__ import annotations

import io
import tracemalloc
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from registry_api.digests import digest_bytes
from registry_api.models import Blob, BlobUpload, RepositoryBlob
from registry_api.services import uploads as upload_services
from tests.conftest import basic_auth
from tests.registry_api.conftest import bearer, blob_upload, pull_access, push_access

pytestmark = pytest.mark.django_db

OCTETS = "application/octet-stream"


@pytest.fixture
def alice_push(public_repo):
    return bearer("alice", push_access("alice/app"))


def _start(client, headers, name="alice/app"):
    response = client.post(f"/v2/{name}/blobs/uploads/", **headers)
    assert response.status_code == 202, response.content
    return response


def _error_code(response) -> str:
    return response.json()["errors"][0]["code"]


def _stored(client, name, digest, headers) -> bytes:
    response = client.get(f"/v2/{name}/blobs/{digest}", **headers)
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_start_answers_a_session(client, alice_push):
    response = _start(client, alice_push)
    session_id = response["Docker-Upload-UUID"]
    assert response["Location"] == f"/v2/alice/app/blobs/uploads/{session_id}"
    assert response["Range"] == "0-0"
    assert response["Content-Length"] == "0"
    assert response["OCI-Chunk-Min-Length"] == str(settings.REGISTRY_CHUNK_MIN_LENGTH)
    assert response.content == b""
    upload = BlobUpload.objects.get(uuid=session_id)
    assert upload.offset == 0
    assert (settings.UPLOAD_STAGING_DIR / session_id).exists()


def test_start_creates_the_repository_on_first_push(client, alice):
    headers = bearer("alice", push_access("alice/new"))
    digest = blob_upload(client, "alice/new", b"first", headers)
    assert RepositoryBlob.objects.get(blob__digest=digest).repository.name == "new"


def test_post_with_a_digest_stores_the_blob_in_one_request(client, alice_push):
    data = b"monolithic content"
    digest = digest_bytes(data)
    response = client.post(
        f"/v2/alice/app/blobs/uploads/?digest={digest}",
        data=data,
        content_type=OCTETS,
        **alice_push,
    )
    assert response.status_code == 201, response.content
    assert response["Location"] == f"/v2/alice/app/blobs/{digest}"
    assert response["Docker-Content-Digest"] == digest
    assert _stored(client, "alice/app", digest, alice_push) == data
    assert not BlobUpload.objects.exists()
    assert not any(settings.UPLOAD_STAGING_DIR.iterdir())


def test_monolithic_post_with_wrong_digest_leaves_nothing(client, alice_push):
    wrong = digest_bytes(b"other")
    response = client.post(
        f"/v2/alice/app/blobs/uploads/?digest={wrong}", data=b"x", content_type=OCTETS, **alice_push
    )
    assert response.status_code == 400
    assert _error_code(response) == "DIGEST_INVALID"
    assert not Blob.objects.exists() and not BlobUpload.objects.exists()


def test_chunked_upload_with_status_and_final_put(client, alice_push):
    data = b"0123456789" * 10
    location = _start(client, alice_push)["Location"]
    first = client.patch(
        location, data=data[:40], content_type=OCTETS, HTTP_CONTENT_RANGE="0-39", **alice_push
    )
    assert first.status_code == 202
    assert first["Range"] == "0-39"
    assert first["Location"] == location
    assert first["Docker-Upload-UUID"] == location.rsplit("/", 1)[1]
    second = client.patch(
        location, data=data[40:], content_type=OCTETS, HTTP_CONTENT_RANGE="40-99", **alice_push
    )
    assert second["Range"] == "0-99"
    status = client.get(location, **alice_push)
    assert status.status_code == 204
    assert status["Range"] == "0-99"
    assert status["Location"] == location
    digest = digest_bytes(data)
    done = client.put(f"{location}?digest={digest}", **alice_push)
    assert done.status_code == 201, done.content
    assert done["Location"] == f"/v2/alice/app/blobs/{digest}"
    assert done["Docker-Content-Digest"] == digest
    assert _stored(client, "alice/app", digest, alice_push) == data
    assert Blob.objects.get(digest=digest).size == 100
    gone = client.get(location, **alice_push)
    assert gone.status_code == 404
    assert _error_code(gone) == "BLOB_UPLOAD_UNKNOWN"


def test_patch_without_content_range_appends(client, alice_push):
    location = _start(client, alice_push)["Location"]
    client.patch(location, data=b"abc", content_type=OCTETS, **alice_push)
    response = client.patch(location, data=b"def", content_type=OCTETS, **alice_push)
    assert response["Range"] == "0-5"
    digest = digest_bytes(b"abcdef")
    assert client.put(f"{location}?digest={digest}", **alice_push).status_code == 201


def test_put_with_final_chunk(client, alice_push):
    location = _start(client, alice_push)["Location"]
    client.patch(location, data=b"head-", content_type=OCTETS, **alice_push)
    digest = digest_bytes(b"head-tail")
    response = client.put(
        f"{location}?digest={digest}", data=b"tail", content_type=OCTETS, **alice_push
    )
    assert response.status_code == 201
    assert _stored(client, "alice/app", digest, alice_push) == b"head-tail"


def test_out_of_order_chunk_is_416_with_progress(client, alice_push):
    location = _start(client, alice_push)["Location"]
    client.patch(location, data=b"12345", content_type=OCTETS, **alice_push)
    response = client.patch(
        location, data=b"67890", content_type=OCTETS, HTTP_CONTENT_RANGE="10-14", **alice_push
    )
    assert response.status_code == 416
    assert _error_code(response) == "RANGE_INVALID"
    assert response["Range"] == "0-4"
    assert response["Location"] == location
    # Nothing was written: the session resumes where it was.
    resumed = client.patch(
        location, data=b"67890", content_type=OCTETS, HTTP_CONTENT_RANGE="5-9", **alice_push
    )
    assert resumed["Range"] == "0-9"


@pytest.mark.parametrize("header", ["bogus", "5-2", "0-x", "bytes=a-b", "-1-3"])
def test_malformed_content_range_is_416(client, alice_push, header):
    location = _start(client, alice_push)["Location"]
    response = client.patch(
        location, data=b"abc", content_type=OCTETS, HTTP_CONTENT_RANGE=header, **alice_push
    )
    assert response.status_code == 416
    assert _error_code(response) == "RANGE_INVALID"
    assert response["Range"] == "0-0"


def test_a_session_busy_with_another_request_answers_416(client, alice_push):
    from registry_api import storage

    location = _start(client, alice_push)["Location"]
    # Another request (any process: the lock is the staging's, not this process's) holds it.
    with storage.upload_staging().locked(location.rsplit("/", 1)[1]):
        busy = client.patch(location, data=b"abc", content_type=OCTETS, **alice_push)
        finishing = client.put(f"{location}?digest={digest_bytes(b'')}", **alice_push)
    assert busy.status_code == finishing.status_code == 416
    assert busy["Range"] == "0-0"
    assert client.patch(location, data=b"abc", content_type=OCTETS, **alice_push).status_code == 202


def test_content_range_disagreeing_with_body_is_size_invalid(client, alice_push):
    location = _start(client, alice_push)["Location"]
    response = client.patch(
        location, data=b"abc", content_type=OCTETS, HTTP_CONTENT_RANGE="0-9", **alice_push
    )
    assert response.status_code == 400
    assert _error_code(response) == "SIZE_INVALID"
    assert client.get(location, **alice_push)["Range"] == "0-0"


def test_short_body_is_size_invalid_and_discarded(client, alice_push):
    location = _start(client, alice_push)["Location"]
    client.patch(location, data=b"keep", content_type=OCTETS, **alice_push)
    # The client promised 100 bytes and hung up after 3.
    response = client.patch(
        location,
        data=b"",
        content_type=OCTETS,
        CONTENT_LENGTH="100",
        **{"wsgi.input": io.BytesIO(b"abc")},
        **alice_push,
    )
    assert response.status_code == 400
    assert _error_code(response) == "SIZE_INVALID"
    digest = digest_bytes(b"keep")
    assert client.put(f"{location}?digest={digest}", **alice_push).status_code == 201


def test_chunked_transfer_encoding_body(client, alice_push):
    """docker sends PATCH bodies without Content-Length; the WSGI server de-chunks them."""
    data = b"streamed without a length" * 1000
    location = _start(client, alice_push)["Location"]
    response = client.patch(
        location,
        data=b"",
        content_type=OCTETS,
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": io.BytesIO(data)},
        **alice_push,
    )
    assert response.status_code == 202
    assert response["Range"] == f"0-{len(data) - 1}"
    digest = digest_bytes(data)
    assert client.put(f"{location}?digest={digest}", **alice_push).status_code == 201


def test_wrong_digest_cancels_the_session(client, alice_push):
    location = _start(client, alice_push)["Location"]
    client.patch(location, data=b"content", content_type=OCTETS, **alice_push)
    response = client.put(f"{location}?digest={digest_bytes(b'other')}", **alice_push)
    assert response.status_code == 400
    assert _error_code(response) == "DIGEST_INVALID"
    assert not Blob.objects.exists()
    assert client.get(location, **alice_push).status_code == 404


@pytest.mark.parametrize("query", ["", "?digest=", "?digest=sha256:abc", "?digest=md5:" + "0" * 32])
def test_put_needs_a_valid_digest(client, alice_push, query):
    location = _start(client, alice_push)["Location"]
    response = client.put(f"{location}{query}", **alice_push)
    assert response.status_code == 400
    assert _error_code(response) == "DIGEST_INVALID"
    assert client.get(location, **alice_push).status_code == 204


def test_upload_completes_with_a_sha512_digest(client, alice_push):
    data = b"sha512 content"
    location = _start(client, alice_push)["Location"]
    client.patch(location, data=data, content_type=OCTETS, **alice_push)
    digest = digest_bytes(data, "sha512")
    response = client.put(f"{location}?digest={digest}", **alice_push)
    assert response.status_code == 201
    assert _stored(client, "alice/app", digest, alice_push) == data


def test_empty_blob_uploads_and_answers_head_with_length_zero(client, alice_push):
    digest = blob_upload(client, "alice/app", b"", alice_push)
    head = client.head(f"/v2/alice/app/blobs/{digest}", **alice_push)
    assert head.status_code == 200 and head["Content-Length"] == "0"


def test_delete_cancels_the_session_and_removes_its_staged_bytes(client, alice_push):
    location = _start(client, alice_push)["Location"]
    session_id = location.rsplit("/", 1)[1]
    client.patch(location, data=b"abc", content_type=OCTETS, **alice_push)
    response = client.delete(location, **alice_push)
    assert response.status_code == 204
    assert not (settings.UPLOAD_STAGING_DIR / session_id).exists()
    again = client.delete(location, **alice_push)
    assert again.status_code == 404
    assert _error_code(again) == "BLOB_UPLOAD_UNKNOWN"


@pytest.mark.parametrize("session_id", ["not-a-uuid", "79f855e3-5c55-4a81-85ac-70bf6e3509e3"])
@pytest.mark.parametrize("method", ["get", "patch", "put", "delete"])
def test_unknown_session_is_blob_upload_unknown(client, alice_push, session_id, method):
    response = getattr(client, method)(
        f"/v2/alice/app/blobs/uploads/{session_id}?digest={digest_bytes(b'')}", **alice_push
    )
    assert response.status_code == 404
    assert _error_code(response) == "BLOB_UPLOAD_UNKNOWN"


def test_session_of_another_repository_is_unknown(client, alice, alice_push):
    location = _start(client, alice_push)["Location"]
    session_id = location.rsplit("/", 1)[1]
    other = bearer("alice", push_access("alice/other"))
    response = client.get(f"/v2/alice/other/blobs/uploads/{session_id}", **other)
    assert response.status_code == 404
    assert _error_code(response) == "BLOB_UPLOAD_UNKNOWN"


def test_upload_needs_push(client, public_repo, charlie):
    response = client.post(
        "/v2/alice/app/blobs/uploads/", **bearer("charlie", pull_access("alice/app"))
    )
    assert response.status_code == 403
    assert _error_code(response) == "DENIED"


def test_chunks_on_another_process_are_rehashed_once(client, alice_push, monkeypatch):
    """A PUT landing on a process that did not see every chunk re-reads the staged bytes."""
    calls = []
    real = upload_services._rehash
    monkeypatch.setattr(
        upload_services, "_rehash", lambda *a, **k: calls.append(a) or real(*a, **k)
    )
    data = b"a" * 1000 + b"b" * 1000
    location = _start(client, alice_push)["Location"]
    client.patch(location, data=data[:1000], content_type=OCTETS, **alice_push)
    upload_services._HASHERS.clear()  # the next chunk lands on a fresh process
    client.patch(location, data=data[1000:], content_type=OCTETS, **alice_push)
    response = client.put(f"{location}?digest={digest_bytes(data)}", **alice_push)
    assert response.status_code == 201
    assert len(calls) == 1


def test_common_path_never_rereads(client, alice_push, monkeypatch):
    calls = []
    real = upload_services._rehash
    monkeypatch.setattr(
        upload_services, "_rehash", lambda *a, **k: calls.append(a) or real(*a, **k)
    )
    data = b"layer" * 1000
    location = _start(client, alice_push)["Location"]
    client.patch(location, data=data, content_type=OCTETS, **alice_push)
    assert client.put(f"{location}?digest={digest_bytes(data)}", **alice_push).status_code == 201
    assert calls == []


def test_identical_concurrent_uploads_share_one_blob(client, alice, alice_push):
    data = b"same layer"
    digest = digest_bytes(data)
    other = bearer("alice", push_access("alice/other"))
    first = _start(client, alice_push)["Location"]
    second = _start(client, other, "alice/other")["Location"]
    client.patch(first, data=data, content_type=OCTETS, **alice_push)
    client.patch(second, data=data, content_type=OCTETS, **other)
    assert client.put(f"{first}?digest={digest}", **alice_push).status_code == 201
    assert client.put(f"{second}?digest={digest}", **other).status_code == 201
    assert Blob.objects.filter(digest=digest).count() == 1
    assert RepositoryBlob.objects.filter(blob__digest=digest).count() == 2
    assert _stored(client, "alice/other", digest, other) == data


def test_upload_streams_in_constant_memory(client, alice_push):
    size = 48 * 1024 * 1024
    body = io.BytesIO(b"\0" * size)
    location = _start(client, alice_push)["Location"]
    tracemalloc.start()
    try:
        response = client.patch(
            location,
            data=b"",
            content_type=OCTETS,
            CONTENT_LENGTH=str(size),
            **{"wsgi.input": body},
            **alice_push,
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 202
    assert peak < 8 * 1024 * 1024
    digest = digest_bytes(b"\0" * size)
    assert client.put(f"{location}?digest={digest}", **alice_push).status_code == 201


# Cross-repository mount ------------------------------------------------------------------------


@pytest.fixture
def layer(client, public_repo, private_repo, alice):
    """One blob in alice/app (public) and another in alice/secret (private)."""
    public = blob_upload(
        client, "alice/app", b"public layer", bearer("alice", push_access("alice/app"))
    )
    private = blob_upload(
        client, "alice/secret", b"private layer", bearer("alice", push_access("alice/secret"))
    )
    return {"public": public, "private": private}


def _mount(client, name, digest, source, headers):
    return client.post(f"/v2/{name}/blobs/uploads/?mount={digest}&from={source}", **headers)


def test_mount_from_a_pullable_repository(client, layer, bob):
    access = push_access("bob/copy") + pull_access("alice/app")
    headers = bearer("bob", access)
    response = _mount(client, "bob/copy", layer["public"], "alice/app", headers)
    assert response.status_code == 201, response.content
    assert response["Location"] == f"/v2/bob/copy/blobs/{layer['public']}"
    assert response["Docker-Content-Digest"] == layer["public"]
    assert _stored(client, "bob/copy", layer["public"], headers) == b"public layer"
    assert not BlobUpload.objects.exists()


def test_mount_falls_back_to_an_upload(client, layer, bob, charlie):
    headers = bearer("bob", push_access("bob/copy") + pull_access("alice/app"))
    # The source does not hold this digest.
    missing = _mount(client, "bob/copy", layer["private"], "alice/app", headers)
    assert missing.status_code == 202
    assert missing["Location"].startswith("/v2/bob/copy/blobs/uploads/")
    # No pull grant on the source.
    no_grant = _mount(
        client, "bob/copy", layer["public"], "alice/app", bearer("bob", push_access("bob/copy"))
    )
    assert no_grant.status_code == 202
    # Malformed digest or source name.
    assert _mount(client, "bob/copy", "sha256:zz", "alice/app", headers).status_code == 202
    assert _mount(client, "bob/copy", layer["public"], "NOT//valid", headers).status_code == 202


def test_mount_from_an_invisible_private_repository_never_leaks(client, layer, charlie):
    auth = {"HTTP_AUTHORIZATION": basic_auth("charlie")}
    hidden = _mount(client, "charlie/copy", layer["private"], "alice/secret", auth)
    absent = _mount(client, "charlie/copy", layer["private"], "alice/nothing", auth)
    assert hidden.status_code == absent.status_code == 202
    assert not RepositoryBlob.objects.filter(
        repository__name="copy", blob__digest=layer["private"]
    ).exists()


def test_mount_from_a_private_repository_the_caller_may_pull(client, layer, bob):
    auth = {"HTTP_AUTHORIZATION": basic_auth("bob")}
    response = _mount(client, "bob/copy", layer["private"], "alice/secret", auth)
    assert response.status_code == 201


@pytest.mark.parametrize("length", ["abc", "-5"])
def test_malformed_content_length_is_400(client, alice_push, length):
    location = _start(client, alice_push)["Location"]
    response = client.patch(
        location, data=b"", content_type=OCTETS, CONTENT_LENGTH=length, **alice_push
    )
    assert response.status_code == 400
    assert _error_code(response) == "BLOB_UPLOAD_INVALID"


@pytest.mark.parametrize("digest", ["sha256:short", "sha1:" + "0" * 40, "x"])
def test_monolithic_post_with_malformed_digest_is_400(client, alice_push, digest):
    response = client.post(
        f"/v2/alice/app/blobs/uploads/?digest={digest}",
        data=b"x",
        content_type=OCTETS,
        **alice_push,
    )
    assert response.status_code == 400
    assert _error_code(response) == "DIGEST_INVALID"
    assert not BlobUpload.objects.exists()


# Storage bounds: size limit, full disk, stale sessions --------------------------------------------


def _patch(client, location, data, headers, **extra):
    return client.patch(location, data=data, content_type=OCTETS, **extra, **headers)


def _chunked(data: bytes) -> dict:
    """Test-client kwargs for a body sent with `Transfer-Encoding: chunked` and no length."""
    return {
        "CONTENT_LENGTH": "",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.input": io.BytesIO(data),
    }


def test_a_blob_past_upload_max_bytes_is_413_and_the_session_stays(client, alice_push, settings):
    settings.UPLOAD_MAX_BYTES = 1000
    location = _start(client, alice_push)["Location"]
    assert _patch(client, location, b"a" * 600, alice_push).status_code == 202
    refusals = [
        _patch(client, location, b"b" * 600, alice_push),  # declared length: refused up front
        _patch(client, location, b"", alice_push, **_chunked(b"b" * 600)),  # counted as it came
        client.put(
            f"{location}?digest={digest_bytes(b'a' * 1200)}",
            data=b"b" * 600,
            content_type=OCTETS,
            **alice_push,
        ),
    ]
    for refused in refusals:
        assert refused.status_code == 413
        assert _error_code(refused) == "SIZE_INVALID"
        assert refused["Range"] == "0-599"
    session_id = location.rsplit("/", 1)[1]
    assert (settings.UPLOAD_STAGING_DIR / session_id).stat().st_size == 600
    assert BlobUpload.objects.get(uuid=session_id).offset == 600
    # Up to the limit is fine, and the session finishes as if nothing happened.
    assert _patch(client, location, b"", alice_push, **_chunked(b"c" * 400)).status_code == 202
    digest = digest_bytes(b"a" * 600 + b"c" * 400)
    assert client.put(f"{location}?digest={digest}", **alice_push).status_code == 201
    big = b"d" * 1001
    monolithic = client.post(
        f"/v2/alice/app/blobs/uploads/?digest={digest_bytes(big)}",
        data=big,
        content_type=OCTETS,
        **alice_push,
    )
    assert monolithic.status_code == 413
    assert BlobUpload.objects.count() == 0


@pytest.fixture
def tiny_disk(tmp_path):
    """A real 1 MiB filesystem (tmpfs) and a function that grows it, as an operator would free
    space. Mounting needs root: skipped otherwise."""
    import os
    import subprocess

    mountpoint = tmp_path / "tiny"
    mountpoint.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mountpoint)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {mounted.stderr.decode()[:200]}")

    def grow(size: str) -> None:
        subprocess.run(["mount", "-o", f"remount,size={size}", str(mountpoint)], check=True)

    try:
        yield mountpoint, grow
    finally:
        subprocess.run(["umount", str(mountpoint)], check=False)


def _is_retriable_storage_error(response) -> bool:
    return (
        response.status_code == 507
        and response["Content-Type"] == "application/json"
        and _error_code(response) == "BLOB_UPLOAD_INVALID"
        and int(response["Retry-After"]) > 0
    )


def test_a_full_staging_disk_is_507_and_the_session_resumes(
    client, alice_push, settings, tiny_disk
):
    mountpoint, grow = tiny_disk
    settings.UPLOAD_STAGING_DIR = mountpoint
    first, second = b"a" * 600 * 1024, b"b" * 600 * 1024
    location = _start(client, alice_push)["Location"]
    session_id = location.rsplit("/", 1)[1]
    assert _patch(client, location, first, alice_push).status_code == 202
    for attempt in (
        _patch(client, location, second, alice_push),
        _patch(client, location, b"", alice_push, **_chunked(second)),
    ):
        assert _is_retriable_storage_error(attempt), attempt.content
        assert attempt["Range"] == f"0-{len(first) - 1}"
        assert attempt["Location"] == location
    assert (mountpoint / session_id).stat().st_size == len(first)
    assert client.get(location, **alice_push)["Range"] == f"0-{len(first) - 1}"
    monolithic = client.post(
        f"/v2/alice/app/blobs/uploads/?digest={digest_bytes(second)}",
        data=second,
        content_type=OCTETS,
        **alice_push,
    )
    assert _is_retriable_storage_error(monolithic)
    assert BlobUpload.objects.count() == 1  # the monolithic attempt left no session behind

    grow("4m")
    assert _patch(client, location, second, alice_push).status_code == 202
    digest = digest_bytes(first + second)
    assert client.put(f"{location}?digest={digest}", **alice_push).status_code == 201
    assert _stored(client, "alice/app", digest, alice_push) == first + second


def _registry_storage(settings, backend: str, **options) -> None:
    from django.core.files.storage import storages

    settings.STORAGES = {**settings.STORAGES, "registry": {"BACKEND": backend, "OPTIONS": options}}
    storages._storages.pop("registry", None)


def test_a_full_blob_disk_is_507_and_the_put_can_be_retried(
    client, alice_push, settings, tiny_disk
):
    mountpoint, grow = tiny_disk
    _registry_storage(
        settings, "django.core.files.storage.FileSystemStorage", location=str(mountpoint)
    )
    data = b"z" * 1536 * 1024
    digest = digest_bytes(data)
    location = _start(client, alice_push)["Location"]
    assert _patch(client, location, data, alice_push).status_code == 202
    full = client.put(f"{location}?digest={digest}", **alice_push)
    assert _is_retriable_storage_error(full), full.content
    assert full["Range"] == f"0-{len(data) - 1}"
    assert not Blob.objects.exists()
    assert [p for p in mountpoint.rglob("*") if p.is_file()] == []  # no partial copy left
    grow("4m")
    assert client.put(f"{location}?digest={digest}", **alice_push).status_code == 201
    assert _stored(client, "alice/app", digest, alice_push) == data


def test_an_unreachable_object_store_is_507_and_the_put_can_be_retried(
    client, alice_push, settings, s3_registry_storage
):
    """The session stages in the bucket; when the object store stops answering at the PUT the
    client is told to retry, and the retry, once it answers again, stores the blob. (A part's
    worth: the PUT completes the multipart upload. A blob under a part is the one object its
    PATCH wrote, and its PUT asks nothing of the store.)"""
    from botocore.config import Config

    from tests.e2e.server import free_port

    data = b"layer for a bucket that does not answer" * (6 * 1024 * 1024 // 39)
    digest = digest_bytes(data)
    location = _start(client, alice_push)["Location"]
    assert _patch(client, location, data, alice_push).status_code == 202
    answering = settings.STORAGES["registry"]["OPTIONS"]
    _registry_storage(
        settings,
        "storages.backends.s3.S3Storage",
        **{
            **answering,
            "endpoint_url": f"http://127.0.0.1:{free_port()}",  # nothing listens there
            "client_config": Config(retries={"max_attempts": 1}, connect_timeout=1),
        },
    )
    refused = client.put(f"{location}?digest={digest}", **alice_push)
    assert _is_retriable_storage_error(refused), refused.content
    assert refused["Range"] == f"0-{len(data) - 1}"
    _registry_storage(settings, "storages.backends.s3.S3Storage", **answering)
    assert client.put(f"{location}?digest={digest}", **alice_push).status_code == 201
    assert _stored(client, "alice/app", digest, alice_push) == data


def test_stale_upload_sessions_are_purged_on_a_schedule(client, alice_push, settings):
    from registry_api.models import GcRun
    from registry_api.tasks import garbage_collect

    # Garbage collection purges them: one beat entry (GC_INTERVAL_SECONDS) runs both.
    entry = settings.CELERY_BEAT_SCHEDULE["garbage-collect"]
    assert entry["task"] == garbage_collect.name
    settings.UPLOAD_PURGE_AFTER_SECONDS = 3600
    stale = _start(client, alice_push)["Location"]
    fresh = _start(client, alice_push)["Location"]
    stale_id = stale.rsplit("/", 1)[1]
    BlobUpload.objects.filter(uuid=stale_id).update(
        updated_at=timezone.now() - timedelta(seconds=3601)
    )
    run = GcRun.objects.get(pk=garbage_collect.delay().get())
    assert run.uploads_purged == 1
    assert client.get(stale, **alice_push).status_code == 404
    assert not (settings.UPLOAD_STAGING_DIR / stale_id).exists()
    assert client.get(fresh, **alice_push).status_code == 204
