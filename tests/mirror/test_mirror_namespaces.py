"""A read never claims a namespace: the prefix-less mirror keeps `squatted/x` in its own system
namespace, so a later sign-up as `squatted` works and starts empty, apart from the cache."""

from __future__ import annotations

import os

import pytest
from django.urls import reverse

from hub.models import Namespace, Repository
from registry_api.models import ProxyCache, Tag
from registry_api.proxy.repositories import MIRROR_HOME
from registry_api.proxy.services import proxy_cache_save
from tests.conftest import basic_auth
from tests.mirror.fake_upstream import FakeUpstream, sha256
from tests.registry_api.conftest import blob_upload

pytestmark = pytest.mark.django_db

ACCEPT = {"HTTP_ACCEPT": "application/vnd.oci.image.manifest.v1+json"}
PASSWORD = "a-long-unusual-phrase"


def pull(client, name: str, digest: str, blobs: list[bytes]) -> None:
    manifest = client.get(f"/v2/{name}/manifests/1", **ACCEPT)
    assert manifest.status_code == 200, manifest.content
    assert manifest["Docker-Content-Digest"] == digest
    assert client.head(f"/v2/{name}/manifests/1", **ACCEPT).status_code == 200
    for data in blobs:
        response = client.get(f"/v2/{name}/blobs/{sha256(data)}")
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == data


def test_mirror_pulls_claim_no_namespace_and_the_name_stays_free(client, settings, fake_upstream):
    settings.MIRROR_UPSTREAM_URL = fake_upstream.url
    blobs = [b'{"os":"linux"}', os.urandom(64 * 1024)]
    digest = fake_upstream.manifest("squatted/x", "1", blobs)

    pull(client, "squatted/x", digest, blobs)

    assert not Namespace.objects.filter(name="squatted").exists()
    cached = Repository.objects.get(namespace__name=MIRROR_HOME, name="squatted/x")
    assert cached.mirror_of.endswith("/squatted/x")
    assert client.get(reverse("hub:explore")).status_code == 200
    assert client.get(reverse("hub:search"), {"q": "squatted"}).status_code == 200
    # The second pull is the cache's: the upstream is not asked again.
    asked = sum(fake_upstream.requests.values())
    pull(client, "squatted/x", digest, blobs)
    assert sum(fake_upstream.requests.values()) == asked

    signed_up = client.post(
        reverse("accounts:signup"),
        {
            "username": "squatted",
            "email": "squatted@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert signed_up.status_code == 302
    assert Namespace.objects.get(name="squatted").kind == Namespace.Kind.USER
    client.logout()

    # The name is the new user's now: their pushes go to their own repository, never into the
    # mirror's copy, which keeps what the upstream served.
    auth = {"HTTP_AUTHORIZATION": basic_auth("squatted", PASSWORD)}
    blob_upload(client, "squatted/x", b"the new owner's layer", auth)
    own = Repository.objects.get(namespace__name="squatted", name="x")
    assert own.pk != cached.pk and not own.mirror_of
    assert Tag.objects.get(repository=cached, name="1").manifest.digest == digest
    assert not cached.blob_links.filter(blob__digest=sha256(b"the new owner's layer")).exists()


def test_a_proxy_cache_namespace_still_holds_its_repositories(client, fake_upstream, fake_cache):
    blobs = [b"{}", b"layer"]
    digest = fake_upstream.manifest("tools/y", "1", blobs)

    pull(client, "fake/tools/y", digest, blobs)

    assert Repository.objects.filter(namespace__name="fake", name="tools/y").exists()
    assert not Repository.objects.filter(namespace__name=MIRROR_HOME).exists()


def test_a_proxy_cache_set_up_later_does_not_serve_the_mirrors_copy(
    client, settings, fake_upstream
):
    settings.MIRROR_UPSTREAM_URL = fake_upstream.url
    mirrored = fake_upstream.manifest("squatted/x", "1", [b"{}", b"from the mirror"])
    pull(client, "squatted/x", mirrored, [b"{}", b"from the mirror"])
    other = FakeUpstream().start()
    try:
        proxied = other.manifest("x", "1", [b"{}", b"from the proxy cache"])
        proxy_cache_save(proxy_cache=ProxyCache(namespace="squatted", upstream_url=other.url))

        pull(client, "squatted/x", proxied, [b"{}", b"from the proxy cache"])
    finally:
        other.stop()
    assert Repository.objects.get(namespace__name="squatted", name="x").mirror_of.endswith("/x")
    home = Repository.objects.get(namespace__name=MIRROR_HOME, name="squatted/x")
    assert Tag.objects.get(repository=home, name="1").manifest.digest == mirrored


def test_a_single_component_name_is_the_upstreams_library_image(client, settings, fake_upstream):
    # `docker pull MIRROR/busybox` asks for `busybox`; registry-mirrors clients ask for
    # `library/busybox`. Both are the upstream's `library/busybox`, cached once in `library`
    # (an organization without members, so the mirror still serves it).
    settings.MIRROR_UPSTREAM_URL = fake_upstream.url
    blobs = [b'{"os":"linux"}', os.urandom(16 * 1024)]
    digest = fake_upstream.manifest("library/busybox", "1", blobs)

    pull(client, "busybox", digest, blobs)
    pull(client, "library/busybox", digest, blobs)

    cached = Repository.objects.get(name="busybox")
    assert cached.full_name == "library/busybox"
    assert cached.mirror_of.endswith("/library/busybox")
    tags = client.get("/v2/busybox/tags/list")
    assert tags.json() == {"name": "busybox", "tags": ["1"]}
