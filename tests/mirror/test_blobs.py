"""Blobs through the cache: streamed while stored, verified before visible, fetched once however
many clients ask at the same time, and nothing left behind when the upstream breaks off.

The fetch runs in its own thread with its own database connection: these tests commit.
"""

from __future__ import annotations

import json
import os
import threading

import pytest
import requests
from django.db import connection, connections, transaction

from registry_api import storage
from registry_api.digests import digest_bytes
from registry_api.models import Blob, RepositoryBlob
from registry_api.proxy.blobs import BlobFetchBroken, _stored
from registry_api.services.blobs import BYTES_LOCK_KEY

pytestmark = pytest.mark.django_db(transaction=True)


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


def assert_failed(response) -> None:
    if response.streaming:  # it joined the fetch while it ran: the connection breaks off
        assert response.status_code == 200
        with pytest.raises(BlobFetchBroken):
            body_of(response)
    else:  # the fetch had already failed when it asked: a clear error
        assert response.status_code == 503
        assert response.json()["errors"][0]["code"] == "UNAVAILABLE"


def staged_files():
    directory = storage.staging_dir() / "proxy"
    return (
        sorted(p.name for p in directory.iterdir() if p.suffix == ".part")
        if directory.exists()
        else []
    )


def test_blob_is_streamed_then_served_from_storage(client, upstream, hub_cache, image_one):
    upstream.image_push("tools/layers", "1", image_one)
    client.get("/v2/hub/tools/layers/manifests/1")
    layer = image_one.layers[1]

    first = client.get(f"/v2/hub/tools/layers/blobs/{layer.digest}")
    assert first.status_code == 200
    assert first["Docker-Content-Digest"] == layer.digest
    assert int(first["Content-Length"]) == layer.size
    assert body_of(first) == layer.path.read_bytes()

    blob = Blob.objects.get(digest=layer.digest)
    assert blob.size == layer.size
    assert RepositoryBlob.objects.filter(blob=blob, repository__name="tools/layers").exists()
    assert storage.blobs().exists(layer.digest)
    assert blob.manifests.filter(repository__name="tools/layers").exists()

    second = client.get(f"/v2/hub/tools/layers/blobs/{layer.digest}")
    assert b"".join(second.streaming_content) == layer.path.read_bytes()
    assert upstream.count("GET", f"/v2/tools/layers/blobs/{layer.digest}") == 1
    assert staged_files() == []


def test_head_of_an_uncached_blob_asks_the_upstream_without_fetching(
    client, upstream, hub_cache, image_one
):
    upstream.image_push("tools/headed", "1", image_one)
    config = image_one.config_digest

    response = client.head(f"/v2/hub/tools/headed/blobs/{config}")

    assert response.status_code == 200
    assert int(response["Content-Length"]) == len(image_one.config_bytes())
    assert not Blob.objects.filter(digest=config).exists()
    missing = "sha256:" + "0" * 64
    assert client.get(f"/v2/hub/tools/headed/blobs/{missing}").status_code == 404


def test_a_blob_cached_for_one_repository_is_reused_by_another(
    client, upstream, hub_cache, image_one
):
    upstream.image_push("tools/a", "1", image_one)
    upstream.image_push("tools/b", "1", image_one)
    digest = image_one.config_digest
    body_of(client.get(f"/v2/hub/tools/a/blobs/{digest}"))

    response = client.get(f"/v2/hub/tools/b/blobs/{digest}")

    assert b"".join(response.streaming_content) == image_one.config_bytes()
    assert upstream.count("GET", f"/v2/tools/b/blobs/{digest}") == 0
    assert RepositoryBlob.objects.filter(blob__digest=digest, repository__name="tools/b").exists()


def test_ten_concurrent_pulls_fetch_the_blob_once(live_server, fake_upstream, fake_cache):
    if connection.vendor == "sqlite":
        # The in-memory test database refuses concurrent writers ("table is locked"); the
        # end-to-end test runs this against gunicorn's processes on a real database.
        pytest.skip("needs a database that takes concurrent writers")
    data = os.urandom(2 * 1024 * 1024)
    fake_upstream.manifest("slow", "1", [b"{}", data])
    digest = fake_upstream.blob(data)
    fake_upstream.chunk_delay = 0.02  # 32 chunks: the fetch takes ~0.6 s
    results: list = [None] * 10

    def pull(index: int) -> None:
        response = requests.get(f"{live_server.url}/v2/fake/slow/blobs/{digest}", timeout=60)
        results[index] = (response.status_code, response.content)

    threads = [threading.Thread(target=pull, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)

    assert [status for status, _ in results] == [200] * 10
    assert all(body == data for _, body in results)
    assert fake_upstream.requests[f"GET /v2/slow/blobs/{digest}"] == 1
    assert Blob.objects.filter(digest=digest).count() == 1


def test_upstream_breaking_off_leaves_nothing_visible(client, fake_upstream, fake_cache):
    data = os.urandom(512 * 1024)
    fake_upstream.manifest("broken", "1", [b"{}", data])
    digest = fake_upstream.blob(data)
    fake_upstream.break_blobs = True

    assert_failed(client.get(f"/v2/fake/broken/blobs/{digest}"))

    assert not Blob.objects.filter(digest=digest).exists()
    assert not storage.blobs().exists(digest)
    assert staged_files() == []
    # Later pulls try again; once the upstream behaves, the blob is cached whole.
    fake_upstream.break_blobs = False
    retry = client.get(f"/v2/fake/broken/blobs/{digest}")
    assert body_of(retry) == data
    assert Blob.objects.get(digest=digest).size == len(data)


def test_a_wrong_digest_from_upstream_is_never_stored(client, fake_upstream, fake_cache):
    data = os.urandom(100 * 1024)
    fake_upstream.manifest("liar", "1", [b"{}", data])
    digest = fake_upstream.blob(data)
    fake_upstream.blobs[digest] = os.urandom(len(data))  # same size, other bytes

    response = client.get(f"/v2/fake/liar/blobs/{digest}")
    assert_failed(response)

    assert not Blob.objects.filter(digest=digest).exists()
    assert not storage.blobs().exists(digest)


def test_client_going_away_does_not_stop_the_fetch(client, fake_upstream, fake_cache):
    data = os.urandom(1024 * 1024)
    fake_upstream.manifest("away", "1", [b"{}", data])
    digest = fake_upstream.blob(data)
    fake_upstream.chunk_delay = 0.01

    response = client.get(f"/v2/fake/away/blobs/{digest}")
    chunks = iter(response.streaming_content)
    next(chunks)
    response.close()  # what the WSGI server does when the client disconnects

    from registry_api.proxy.blobs import fetch_running

    for _ in range(500):
        if not fetch_running(digest):
            break
        threading.Event().wait(0.02)
    assert storage.blobs().exists(digest)
    # The next pull finds it stored: no second upstream fetch.
    assert body_of(client.get(f"/v2/fake/away/blobs/{digest}")) == data
    assert Blob.objects.get(digest=digest).size == len(data)
    assert fake_upstream.requests[f"GET /v2/away/blobs/{digest}"] == 1


def test_leftovers_of_a_fetch_that_died_with_its_process_are_ignored(
    client, fake_upstream, fake_cache
):
    data = os.urandom(300 * 1024)
    fake_upstream.manifest("crashed", "1", [b"{}", data])
    digest = fake_upstream.blob(data)
    directory = storage.staging_dir() / "proxy"
    directory.mkdir(parents=True, exist_ok=True)
    key = digest.replace(":", "-")
    (directory / f"{key}.dead.part").write_bytes(data[:1000])
    (directory / f"{key}.state").write_text(
        json.dumps({"id": "dead", "part": f"{key}.dead.part", "size": len(data), "streaming": True})
    )

    assert body_of(client.get(f"/v2/fake/crashed/blobs/{digest}")) == data
    assert staged_files() == []


@pytest.mark.django_db(transaction=True)
def test_recording_fetched_bytes_waits_for_a_collection_deleting_orphans(settings):
    """The fetch stores bytes first and a request records their row later: in between they are
    orphans, which a GC sweep deletes under the exclusive side of the bytes lock."""
    if connection.vendor == "sqlite":
        pytest.skip("PostgreSQL's advisory lock is the guard; SQLite serializes writers anyway")
    data = os.urandom(1024)
    digest = digest_bytes(data)
    staged = settings.UPLOAD_STAGING_DIR / "orphan"
    staged.parent.mkdir(parents=True, exist_ok=True)
    staged.write_bytes(data)
    storage.blobs().put_verified(digest, staged)
    recorded = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [BYTES_LOCK_KEY])  # a sweep running
        thread = threading.Thread(
            target=lambda: (recorded.append(_stored(digest)), connections.close_all())
        )
        thread.start()
        thread.join(1)
        assert thread.is_alive() and recorded == []  # waits for the sweep to decide
    thread.join(10)
    assert recorded[0].digest == digest
