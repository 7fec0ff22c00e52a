"""Manifests through the cache: fetched on first pull, fresh for the cache lifetime, revalidated
with a HEAD after it, immutable by digest, stale when the upstream is down."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from config import serving_hints
from hub.models import Membership, Namespace, Repository
from registry_api.models import Manifest, ProxyCache, Tag
from tests.e2e.server import free_port

pytestmark = pytest.mark.django_db

ACCEPT = {
    "HTTP_ACCEPT": ", ".join(
        [
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.v2+json",
            "application/vnd.docker.distribution.manifest.list.v2+json",
        ]
    )
}


def expire(full_name: str, tag: str) -> None:
    namespace, name = full_name.split("/", 1)
    Tag.objects.filter(
        repository__namespace__name=namespace, repository__name=name, name=tag
    ).update(verified_at=timezone.now() - timedelta(days=30))


def test_first_pull_fetches_and_caches_the_manifest(client, upstream, hub_cache, image_one):
    digest = upstream.image_push("tools/one", "1.0", image_one)

    response = client.get("/v2/hub/tools/one/manifests/1.0", **ACCEPT)

    assert response.status_code == 200, response.content
    assert response["Docker-Content-Digest"] == digest
    assert response.content == image_one.oci_manifest_bytes()
    repository = Repository.objects.get(namespace__name="hub", name="tools/one")
    assert repository.mirror_of == f"127.0.0.1:{upstream.port}/tools/one"
    assert not repository.is_private
    assert repository.pull_count == 1
    namespace = Namespace.objects.get(name="hub")
    assert namespace.kind == Namespace.Kind.ORGANIZATION
    assert not Membership.objects.filter(organization=namespace.organization).exists()
    tag = Tag.objects.get(repository=repository, name="1.0")
    assert tag.manifest.digest == digest and tag.verified_at is not None


def test_a_pull_through_the_cache_is_never_answered_in_the_serving_loop(
    client, upstream, hub_cache, image_one
):
    """It may wait on the upstream: the worker's loop must not wait with it (serving_hints)."""
    upstream.image_push("tools/hinted", "1", image_one)
    for _ in ("fetched", "fresh in the cache, which might have asked"):
        serving_hints.begin()
        assert client.get("/v2/hub/tools/hinted/manifests/1", **ACCEPT).status_code == 200
        assert serving_hints.waited_on_network()


def test_fresh_tag_is_served_without_asking_the_upstream(client, upstream, hub_cache, image_one):
    upstream.image_push("tools/fresh", "1", image_one)
    assert client.get("/v2/hub/tools/fresh/manifests/1", **ACCEPT).status_code == 200
    asked = upstream.count("HEAD", "/v2/tools/fresh/manifests/1") + upstream.count(
        "GET", "/v2/tools/fresh/manifests/1"
    )

    for _ in range(3):
        assert client.get("/v2/hub/tools/fresh/manifests/1", **ACCEPT).status_code == 200
        assert client.head("/v2/hub/tools/fresh/manifests/1", **ACCEPT).status_code == 200

    after = upstream.count("HEAD", "/v2/tools/fresh/manifests/1") + upstream.count(
        "GET", "/v2/tools/fresh/manifests/1"
    )
    assert after == asked
    assert Repository.objects.get(name="tools/fresh").pull_count == 4


def test_moved_tag_is_seen_after_the_cache_lifetime_not_before(
    client, upstream, hub_cache, image_one, image_two
):
    first = upstream.image_push("tools/moving", "latest", image_one)
    response = client.get("/v2/hub/tools/moving/manifests/latest", **ACCEPT)
    assert response["Docker-Content-Digest"] == first
    second = upstream.image_push("tools/moving", "latest", image_two)

    before = client.get("/v2/hub/tools/moving/manifests/latest", **ACCEPT)
    assert before["Docker-Content-Digest"] == first

    expire("hub/tools/moving", "latest")
    after = client.get("/v2/hub/tools/moving/manifests/latest", **ACCEPT)
    assert after["Docker-Content-Digest"] == second
    assert after.content == image_two.oci_manifest_bytes()
    # The old manifest stays reachable by digest.
    assert client.get(f"/v2/hub/tools/moving/manifests/{first}", **ACCEPT).status_code == 200


def test_expired_unchanged_tag_is_revalidated_with_a_head(client, upstream, hub_cache, image_one):
    upstream.image_push("tools/steady", "v1", image_one)
    client.get("/v2/hub/tools/steady/manifests/v1", **ACCEPT)
    gets = upstream.count("GET", "/v2/tools/steady/manifests/v1")
    expire("hub/tools/steady", "v1")

    response = client.get("/v2/hub/tools/steady/manifests/v1", **ACCEPT)

    assert response.status_code == 200
    assert upstream.count("HEAD", "/v2/tools/steady/manifests/v1") == 1
    assert upstream.count("GET", "/v2/tools/steady/manifests/v1") == gets
    tag = Tag.objects.get(repository__name="tools/steady", name="v1")
    assert tag.verified_at > timezone.now() - timedelta(minutes=1)


def test_by_digest_is_immutable_and_fetched_once(client, upstream, hub_cache, image_one):
    digest = upstream.image_push("tools/pinned", "x", image_one)

    for _ in range(2):
        response = client.get(f"/v2/hub/tools/pinned/manifests/{digest}", **ACCEPT)
        assert response.status_code == 200
        assert response["Docker-Content-Digest"] == digest

    assert upstream.count("GET", f"/v2/tools/pinned/manifests/{digest}") == 1
    assert not Tag.objects.filter(repository__name="tools/pinned").exists()


def test_unknown_upstream_content_is_unknown_here(client, upstream, hub_cache, image_one):
    missing_repo = client.get("/v2/hub/tools/nothing/manifests/1", **ACCEPT)
    assert missing_repo.status_code == 404
    assert missing_repo.json()["errors"][0]["code"] == "NAME_UNKNOWN"
    assert not Repository.objects.filter(name="tools/nothing").exists()

    upstream.image_push("tools/some", "1", image_one)
    client.get("/v2/hub/tools/some/manifests/1", **ACCEPT)
    missing_tag = client.get("/v2/hub/tools/some/manifests/2", **ACCEPT)
    assert missing_tag.status_code == 404
    assert missing_tag.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"


def test_upstream_down_serves_stale_tags_and_refuses_the_rest(
    client, upstream, hub_cache, image_one
):
    digest = upstream.image_push("tools/offline", "1", image_one)
    client.get("/v2/hub/tools/offline/manifests/1", **ACCEPT)
    ProxyCache.objects.filter(pk=hub_cache.pk).update(
        upstream_url=f"http://127.0.0.1:{free_port()}"
    )
    expire("hub/tools/offline", "1")

    stale = client.get("/v2/hub/tools/offline/manifests/1", **ACCEPT)
    assert stale.status_code == 200
    assert stale["Docker-Content-Digest"] == digest

    uncached = client.get("/v2/hub/tools/offline/manifests/2", **ACCEPT)
    assert uncached.status_code == 503
    assert uncached.json()["errors"][0]["code"] == "UNAVAILABLE"
    never_seen = client.get("/v2/hub/tools/unseen/manifests/1", **ACCEPT)
    assert never_seen.status_code == 503


def test_prefixless_mirror_serves_unowned_namespaces(
    client, settings, upstream, image_one, public_repo
):
    settings.MIRROR_UPSTREAM_URL = upstream.url
    digest = upstream.image_push("library/busy", "1", image_one)

    response = client.get("/v2/library/busy/manifests/1", **ACCEPT)

    assert response.status_code == 200, response.content
    assert response["Docker-Content-Digest"] == digest
    repository = Repository.objects.get(namespace__name="library", name="busy")
    assert repository.mirror_of == f"127.0.0.1:{upstream.port}/library/busy"
    # A user's namespace is never filled from the upstream, and local repositories win.
    upstream.image_push("alice/other", "1", image_one)
    assert client.get("/v2/alice/other/manifests/1", **ACCEPT).status_code == 401
    assert client.get("/v2/alice/app/manifests/1", **ACCEPT).status_code == 404


def test_index_children_are_linked_when_pulled(client, upstream, hub_cache, image_one, image_two):
    for image in (image_one, image_two):
        upstream.image_push("tools/multi", image.message, image)
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": image.oci_manifest_digest,
                "size": len(image.oci_manifest_bytes()),
                "platform": {"architecture": arch, "os": "linux"},
            }
            for image, arch in ((image_one, "amd64"), (image_two, "arm64"))
        ],
    }
    body = json.dumps(index).encode()
    upstream.manifest_push("tools/multi", "all", body, index["mediaType"])

    assert client.get("/v2/hub/tools/multi/manifests/all", **ACCEPT).status_code == 200
    child = client.get(f"/v2/hub/tools/multi/manifests/{image_two.oci_manifest_digest}", **ACCEPT)

    assert child.status_code == 200
    parent = Manifest.objects.get(repository__name="tools/multi", media_type=index["mediaType"])
    assert [c.digest for c in parent.children.all()] == [image_two.oci_manifest_digest]
    assert parent.total_size == image_two.total_layer_bytes + len(image_two.config_bytes())


def test_slow_upstream_gets_the_stale_tag_then_is_left_alone(client, settings, fake_upstream):
    settings.MIRROR_UPSTREAM_READ_TIMEOUT = 1
    ProxyCache.objects.create(namespace="fake", upstream_url=fake_upstream.url)
    digest = fake_upstream.manifest("slowpoke", "1", [b"{}", b"layer"])
    assert client.get("/v2/fake/slowpoke/manifests/1", **ACCEPT).status_code == 200
    expire("fake/slowpoke", "1")
    fake_upstream.manifest_delay = 3

    started = time.monotonic()
    stale = client.get("/v2/fake/slowpoke/manifests/1", **ACCEPT)
    assert stale["Docker-Content-Digest"] == digest
    assert time.monotonic() - started < 2.5
    # For a little while the upstream is not asked again: the next pull does not wait.
    started = time.monotonic()
    assert client.get("/v2/fake/slowpoke/manifests/1", **ACCEPT).status_code == 200
    assert time.monotonic() - started < 0.5
    assert fake_upstream.requests["HEAD /v2/slowpoke/manifests/1"] == 1
