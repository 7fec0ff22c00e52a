"""A mirrored repository serves a blob only when the upstream holds it for that repository.

The attack: the bytes of a private repository's blob are in storage; asking for its digest
through a proxy cache (`hub/anything`) or a prefix-less mirror (`squat/anything`) must answer
exactly as for an absent blob, and must not make the blob mountable from the mirror.
"""

from __future__ import annotations

import pytest

from hub.models import Repository
from registry_api.models import RepositoryBlob
from tests.conftest import basic_auth
from tests.registry_api.conftest import bearer, blob_upload, push_access

pytestmark = pytest.mark.django_db

SECRET = b'{"config":{"Env":["DB_PASSWORD=hunter2"]}}'
ABSENT = "sha256:" + "e" * 64


@pytest.fixture
def private_digest(client, private_repo):
    return blob_upload(client, "alice/secret", SECRET, bearer("alice", push_access("alice/secret")))


@pytest.fixture
def proxied(fake_upstream, settings, db):
    """`hub/…` through a proxy cache, `squat/…` through the prefix-less mirror: one upstream."""
    from registry_api.models import ProxyCache

    ProxyCache.objects.create(namespace="hub", upstream_url=fake_upstream.url)
    settings.MIRROR_UPSTREAM_URL = fake_upstream.url
    return fake_upstream


def as_absent(response, digest: str) -> tuple[int, bytes]:
    return response.status_code, response.content.replace(digest.encode(), ABSENT.encode())


@pytest.mark.parametrize("mirror_name", ["hub/anything", "squat/anything"])
@pytest.mark.parametrize("user", [None, "charlie"])
@pytest.mark.parametrize("method", ["get", "head"])
def test_a_private_blob_is_not_served_through_the_cache(
    client, proxied, private_digest, charlie, mirror_name, user, method
):
    headers = {"HTTP_AUTHORIZATION": basic_auth(user)} if user else {}
    ask = getattr(client, method)

    hidden = ask(f"/v2/{mirror_name}/blobs/{private_digest}", **headers)
    absent = ask(f"/v2/{mirror_name}/blobs/{ABSENT}", **headers)

    assert hidden.status_code == 404
    assert as_absent(hidden, private_digest) == (absent.status_code, absent.content)
    if method == "get":
        assert hidden.json()["errors"][0]["code"] == "BLOB_UNKNOWN"
    assert not RepositoryBlob.objects.filter(
        blob__digest=private_digest, repository__mirror_of__gt=""
    ).exists()
    # The upstream was asked for this repository's blob, and said no.
    remote = mirror_name.removeprefix("hub/")
    assert proxied.requests[f"HEAD /v2/{remote}/blobs/{private_digest}"] == 1


@pytest.mark.parametrize("mirror_name", ["hub/anything", "squat/anything"])
def test_a_private_blob_cannot_be_mounted_from_the_cache(
    client, proxied, private_digest, charlie, mirror_name
):
    auth = {"HTTP_AUTHORIZATION": basic_auth("charlie")}
    client.get(f"/v2/{mirror_name}/blobs/{private_digest}", **auth)
    client.head(f"/v2/{mirror_name}/blobs/{private_digest}", **auth)

    response = client.post(
        f"/v2/charlie/loot/blobs/uploads/?mount={private_digest}&from={mirror_name}", **auth
    )

    assert response.status_code == 202  # an upload session, not a mount
    assert not RepositoryBlob.objects.filter(
        blob__digest=private_digest, repository__namespace__name="charlie"
    ).exists()
    loot = client.get(f"/v2/charlie/loot/blobs/{private_digest}", **auth)
    assert loot.status_code == 404


def test_stored_bytes_are_reused_once_the_upstream_confirms(client, proxied, private_digest):
    """The same bytes published upstream (a shared base layer): no second download."""
    proxied.blob(SECRET)

    response = client.get(f"/v2/hub/public/base/blobs/{private_digest}")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == SECRET
    assert proxied.requests[f"HEAD /v2/public/base/blobs/{private_digest}"] == 1
    assert proxied.requests[f"GET /v2/public/base/blobs/{private_digest}"] == 0
    repository = Repository.objects.get(namespace__name="hub", name="public/base")
    assert RepositoryBlob.objects.filter(repository=repository, blob__digest=private_digest)
    # Linked now: the next pull needs no upstream at all.
    client.get(f"/v2/hub/public/base/blobs/{private_digest}")
    assert proxied.requests[f"HEAD /v2/public/base/blobs/{private_digest}"] == 1


def test_a_blob_cached_for_one_upstream_repository_is_not_served_for_another(
    client, upstream, hub_cache, image_one
):
    """The reference registry keeps blobs per repository: `tools/other` does not hold it."""
    upstream.image_push("tools/holder", "1", image_one)
    digest = image_one.config_digest
    cached = client.get(f"/v2/hub/tools/holder/blobs/{digest}")
    assert b"".join(cached.streaming_content) == image_one.config_bytes()

    for ask in (client.get, client.head):
        response = ask(f"/v2/hub/tools/other/blobs/{digest}")
        assert response.status_code == 404
    assert not Repository.objects.filter(name="tools/other").exists()
