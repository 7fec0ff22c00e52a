"""What only the Swift and Azure drivers do, on their real servers (a Swift all-in-one, Azurite):
Static Large Objects past SWIFT_SEGMENT_SIZE, the signatures of their redirect URLs, and an
unreachable store refusing a put without losing the staged bytes.

The contract every driver shares is tests/registry_api/test_storage_conformance.py."""

from __future__ import annotations

import os
import threading
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
from django.core.files.storage import storages

from registry_api import storage
from registry_api.digests import digest_bytes
from tests.e2e.server import free_port

pytestmark = pytest.mark.django_db

MiB = 1024 * 1024


def _staged(settings, data: bytes):
    settings.UPLOAD_STAGING_DIR.mkdir(parents=True, exist_ok=True)
    path = settings.UPLOAD_STAGING_DIR / f"put-{uuid.uuid4().hex}"
    path.write_bytes(data)
    return path


def _status(url: str, method: str = "GET", data: bytes | None = None) -> int:
    request = urllib.request.Request(url, method=method, data=data)  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    return urlunsplit(parts._replace(query=urlencode({**query, **changes})))


def test_a_swift_blob_past_the_segment_size_is_a_static_large_object(
    swift_registry_storage, settings
):
    settings.SWIFT_SEGMENT_SIZE = 2 * MiB
    container = settings.STORAGES["registry"]["OPTIONS"]["container_name"]
    data = os.urandom(5 * MiB + 3)
    digest = digest_bytes(data)
    store = storage.blobs()
    store.put_verified(digest, _staged(settings, data))

    objects = swift_registry_storage.object_sizes(container)
    segments = sorted(name for name in objects if name.startswith(f"segments/{digest[7:]}/"))
    assert [objects[name] for name in segments] == [2 * MiB, 2 * MiB, MiB + 3]
    assert set(objects) == {f"blobs/sha256/{digest[7:9]}/{digest[7:]}", *segments}
    assert store.size(digest) == len(data)
    assert b"".join(store.chunks(digest)) == data
    boundary = 2 * MiB
    assert (
        b"".join(store.range_chunks(digest, boundary - 5, boundary + 4))
        == data[boundary - 5 : boundary + 5]
    )
    with store.open(digest) as handle:
        assert handle.read(3 * MiB) == data[: 3 * MiB]
    assert list(store.digests()) == [digest]  # segments are not blobs
    with urllib.request.urlopen(store.redirect_url(digest), timeout=10) as response:  # noqa: S310
        assert response.read() == data

    # Storing it again keeps the one copy; deleting it removes its segments too.
    store.put_verified(digest, _staged(settings, data))
    assert swift_registry_storage.object_sizes(container) == objects
    assert store.delete_many([digest]) == []
    assert swift_registry_storage.object_sizes(container) == {}


def test_a_swift_redirect_is_a_sha256_temp_url_for_that_blob_only(swift_registry_storage, settings):
    store = storage.blobs()
    digests = []
    for data in (b"signed", b"other"):
        digests.append(digest_bytes(data))
        store.put_verified(digests[-1], _staged(settings, data))
    url = store.redirect_url(digests[0])
    query = parse_qs(urlsplit(url).query)
    assert len(query["temp_url_sig"][0]) == 64  # HMAC-SHA256
    assert _status(url) == 200
    assert _status(_with_query(url, temp_url_sig="0" * 64)) == 401
    assert _status(url.replace(digests[0][7:], digests[1][7:])) == 401
    assert _status(url, method="PUT", data=b"overwrite") == 401  # signed for GET only
    assert _status(url, method="DELETE") == 401


def test_swift_redirects_signed_at_once_on_many_threads_all_serve_the_blob(
    swift_registry_storage, settings
):
    """Each thread signs on its own connection (SwiftStorage.url, sharing one, could read the
    storage URL before its authentication finished)."""
    digest = digest_bytes(b"wanted by many")
    storage.blobs().put_verified(digest, _staged(settings, b"wanted by many"))
    storages._storages.pop("registry", None)  # a fresh storage and driver: nobody signed in yet
    store = storage.blobs()
    start = threading.Barrier(8)

    def sign(_):
        start.wait(timeout=10)
        return store.redirect_url(digest)

    with ThreadPoolExecutor(max_workers=8) as pool:
        urls = list(pool.map(sign, range(8)))
    assert [_status(url) for url in urls] == [200] * 8


def test_an_azure_redirect_is_a_read_only_sas_for_that_blob_only(azure_registry_storage, settings):
    store = storage.blobs()
    digests = []
    for data in (b"signed", b"other"):
        digests.append(digest_bytes(data))
        store.put_verified(digests[-1], _staged(settings, data))
    url = store.redirect_url(digests[0])
    query = parse_qs(urlsplit(url).query)
    assert query["sp"] == ["r"]
    assert _status(url) == 200
    assert _status(_with_query(url, sig="A" * 43 + "=")) == 403
    assert _status(url.replace(digests[0][7:], digests[1][7:])) == 403
    assert _status(url, method="DELETE") == 403
    assert b"".join(store.chunks(digests[0])) == b"signed"


def test_an_azure_blob_past_the_single_put_size_is_committed_from_blocks(
    azure_registry_storage, settings
):
    """The fixture's client puts at most 4 MiB at once: 9 MiB is three staged blocks, visible
    only when Put Block List commits them."""
    data = os.urandom(9 * MiB)
    digest = digest_bytes(data)
    store = storage.blobs()
    store.put_verified(digest, _staged(settings, data))
    container = settings.STORAGES["registry"]["OPTIONS"]["azure_container"]
    blob = azure_registry_storage.service().get_blob_client(container, storage.blob_path(digest))
    committed, uncommitted = blob.get_block_list("all")
    assert [block.size for block in committed] == [4 * MiB, 4 * MiB, MiB]
    assert uncommitted == []
    assert digest_bytes(b"".join(store.chunks(digest))) == digest
    assert (
        b"".join(store.range_chunks(digest, 4 * MiB - 2, 4 * MiB + 1))
        == data[4 * MiB - 2 : 4 * MiB + 2]
    )


@pytest.fixture(params=["swift", "azure"])
def unreachable_store(request, settings):
    """The `registry` storage alias on a port where nothing listens."""
    dead = f"http://127.0.0.1:{free_port()}"
    if request.param == "swift":
        backend = "swift.storage.SwiftStorage"
        options = {
            "api_auth_url": f"{dead}/auth/v1.0",
            "api_username": "dockyard:tester",
            "api_key": "key",
            "auth_version": "1",
            "container_name": "dockyard",
            "max_retries": 0,
            "lazy_connect": True,
        }
    else:
        backend = "storages.backends.azure_storage.AzureStorage"
        options = {
            "connection_string": (
                "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
                f"AccountKey={'A' * 86}==;BlobEndpoint={dead}/devstoreaccount1;"
            ),
            "azure_container": "dockyard",
            "client_options": {"retry_total": 0},
        }
    settings.STORAGES = {**settings.STORAGES, "registry": {"BACKEND": backend, "OPTIONS": options}}
    storages._storages.pop("registry", None)
    yield storage.blobs()
    storages._storages.pop("registry", None)


def test_an_unreachable_store_refuses_a_put_and_the_staged_bytes_stay(unreachable_store, settings):
    staged = _staged(settings, b"kept for a retry")
    with pytest.raises(storage.StorageUnavailable):
        unreachable_store.put_verified(digest_bytes(b"kept for a retry"), staged)
    assert staged.read_bytes() == b"kept for a retry"
