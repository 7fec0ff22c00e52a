"""One endpoint for several upstreams: containerd's `?ns=<upstream host>` picks the cache."""

from __future__ import annotations

import hashlib
import logging

import pytest
import requests

from hub.models import Repository
from registry_api.models import ProxyCache
from registry_api.proxy.upstreams import mirror_name_for, upstream_host
from tests.conftest import basic_auth
from tests.e2e.server import free_port
from tests.factories import RepositoryFactory
from tests.mirror.conftest import UPSTREAM_USER
from tests.mirror.test_manifests import ACCEPT

pytestmark = pytest.mark.django_db


def host(registry) -> str:
    return f"127.0.0.1:{registry.port}"


@pytest.fixture
def two_caches(upstream, upstream_basic):
    """`one` mirrors the open reference registry, `two` the one behind htpasswd."""
    one = ProxyCache.objects.create(namespace="one", upstream_url=upstream.url)
    two = ProxyCache.objects.create(
        namespace="two",
        upstream_url=upstream_basic.url,
        username=UPSTREAM_USER[0],
        password=UPSTREAM_USER[1],
    )
    return one, two


def test_upstream_hosts_are_compared_as_containerd_names_them():
    assert upstream_host("docker.io") == "docker.io"
    assert upstream_host("https://registry-1.docker.io") == "docker.io"
    assert upstream_host("https://index.docker.io/") == "docker.io"
    assert upstream_host("https://GHCR.io:443") == "ghcr.io"
    assert upstream_host("http://127.0.0.1:5000") == "127.0.0.1:5000"
    assert upstream_host("127.0.0.1:5000") == "127.0.0.1:5000"
    assert upstream_host("http://[::1]:5000") == "[::1]:5000"
    assert upstream_host("bad:port:x") == ""


def test_ns_names_the_cache_of_that_upstream(settings):
    ProxyCache.objects.create(namespace="hub", upstream_url="https://registry-1.docker.io")
    ProxyCache.objects.create(namespace="hub2", upstream_url="https://index.docker.io")
    ProxyCache.objects.create(namespace="ghcr", upstream_url="https://ghcr.io")
    assert mirror_name_for(ns="docker.io", name="library/alpine") == "hub/library/alpine"
    assert mirror_name_for(ns="ghcr.io", name="owner/tool") == "ghcr/owner/tool"
    assert mirror_name_for(ns="quay.io", name="owner/tool") is None
    assert mirror_name_for(ns="", name="owner/tool") is None
    # The prefix-less mirror answers for its own upstream only.
    settings.MIRROR_UPSTREAM_URL = "https://quay.io"
    assert mirror_name_for(ns="quay.io", name="owner/tool") == "owner/tool"
    assert mirror_name_for(ns="gcr.io", name="owner/tool") is None


def test_one_endpoint_serves_two_upstreams(client, upstream, upstream_basic, two_caches, image_one):
    first = upstream.image_push("library/a", "1", image_one)
    second = upstream_basic.image_push("library/b", "2", image_one)

    got_a = client.get(f"/v2/library/a/manifests/1?ns={host(upstream)}", **ACCEPT)
    got_b = client.get(f"/v2/library/b/manifests/2?ns={host(upstream_basic)}", **ACCEPT)

    assert got_a.status_code == 200, got_a.content
    assert got_a["Docker-Content-Digest"] == first
    assert got_b.status_code == 200, got_b.content
    assert got_b["Docker-Content-Digest"] == second
    assert Repository.objects.filter(namespace__name="one", name="library/a").exists()
    assert Repository.objects.filter(namespace__name="two", name="library/b").exists()
    # Blobs too, from the upstream the request names.
    layer = image_one.layers[0]
    blob = client.get(f"/v2/library/b/blobs/{layer.digest}?ns={host(upstream_basic)}")
    assert blob.status_code == 200
    body = b"".join(blob.streaming_content) if blob.streaming else blob.content
    assert "sha256:" + hashlib.sha256(body).hexdigest() == layer.digest
    # Each upstream only has its own image.
    other = client.get(f"/v2/library/a/manifests/1?ns={host(upstream_basic)}", **ACCEPT)
    assert other.status_code == 404


def test_unknown_upstream_is_name_unknown(client, two_caches, settings, upstream):
    settings.MIRROR_UPSTREAM_URL = upstream.url  # a default mirror does not stand in for others
    for ns in ("quay.io", "", "not a host", "x" * 300):
        response = client.get("/v2/library/a/manifests/1", {"ns": ns})
        assert response.status_code == 404, ns
        assert response.json()["errors"][0]["code"] == "NAME_UNKNOWN"
    head = client.head("/v2/library/a/blobs/sha256:" + "0" * 64 + "?ns=quay.io")
    assert head.status_code == 404


def test_the_access_line_names_the_upstream(client, caplog):
    with caplog.at_level(logging.INFO, logger="dockyard.access"):
        client.get("/v2/library/a/manifests/1", {"ns": "quay.io"})
        client.get("/v2/library/a/manifests/1", {"ns": "x\nGET /forged 200"})
    lines = [record.getMessage() for record in caplog.records if record.name == "dockyard.access"]
    assert lines[0].endswith(" ns=quay.io")
    assert "\n" not in lines[1] and lines[1].endswith(" ns=x%0AGET%20%2Fforged%20200")


def test_sign_in_rule_of_the_cache_holds(client, upstream, two_caches, alice, image_one):
    ProxyCache.objects.filter(namespace="one").update(require_sign_in=True)
    upstream.image_push("library/signed", "1", image_one)
    path = f"/v2/library/signed/manifests/1?ns={host(upstream)}"

    refused = client.get(path, **ACCEPT)

    assert refused.status_code == 401
    # The challenge names the cache's repository: the token asked for it grants the pull.
    assert 'scope="repository:one/library/signed:pull"' in refused["WWW-Authenticate"]
    assert client.get(path, HTTP_AUTHORIZATION=basic_auth("alice"), **ACCEPT).status_code == 200
    token = client.get(
        "/auth/token",
        {"service": "dockyard", "scope": "repository:one/library/signed:pull"},
        HTTP_AUTHORIZATION=basic_auth("alice"),
    ).json()["token"]
    bearer = client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}", **ACCEPT)
    assert bearer.status_code == 200
    assert client.get(path, **ACCEPT).status_code == 401  # still, once cached


def test_ns_never_reaches_a_local_private_repository(client, upstream, two_caches, alice):
    RepositoryFactory(namespace=alice.namespace, name="secret", is_private=True)
    absent = client.get(f"/v2/alice/absent/manifests/1?ns={host(upstream)}", **ACCEPT)
    secret = client.get(f"/v2/alice/secret/manifests/1?ns={host(upstream)}", **ACCEPT)
    assert secret.status_code == absent.status_code == 404
    assert secret.json()["errors"][0]["code"] == absent.json()["errors"][0]["code"]
    assert secret.json()["errors"][0]["detail"] == {"name": "one/alice/secret"}
    tags = client.get(f"/v2/alice/secret/tags/list?ns={host(upstream)}")
    assert tags.status_code == 404
    assert not Repository.objects.filter(namespace__name="one").exists()


def test_tags_list_merges_the_upstream_tags(
    client, upstream, hub_cache, image_one, image_two, monkeypatch
):
    from registry_api.proxy import client as upstream_client

    for tag in ("1", "2", "3"):
        upstream.image_push("library/merged", tag, image_one)
    gone = upstream.image_push("library/merged", "old", image_two)
    assert client.get("/v2/hub/library/merged/manifests/old", **ACCEPT).status_code == 200
    deleted = requests.delete(f"{upstream.url}/v2/library/merged/manifests/{gone}", timeout=10)
    assert deleted.status_code == 202
    monkeypatch.setattr(upstream_client, "TAG_PAGE_SIZE", 2)  # the upstream paginates too

    everything = client.get("/v2/hub/library/merged/tags/list")
    first = client.get("/v2/hub/library/merged/tags/list", {"n": 2})
    second = client.get("/v2/hub/library/merged/tags/list", {"n": 2, "last": "2"})
    by_ns = client.get(f"/v2/library/merged/tags/list?ns={host(upstream)}&n=3")

    assert everything.json() == {"name": "hub/library/merged", "tags": ["1", "2", "3", "old"]}
    assert first.json()["tags"] == ["1", "2"]
    assert first["Link"] == '</v2/hub/library/merged/tags/list?n=2&last=2>; rel="next"'
    assert second.json()["tags"] == ["3", "old"] and "Link" not in second
    assert by_ns.json()["tags"] == ["1", "2", "3"]


def test_tags_of_a_repository_never_pulled_come_from_the_upstream(
    client, upstream, hub_cache, image_one
):
    upstream.image_push("library/fresh-tags", "v1", image_one)
    assert client.get("/v2/hub/library/fresh-tags/tags/list").json()["tags"] == ["v1"]
    missing = client.get("/v2/hub/library/never-there/tags/list")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == "NAME_UNKNOWN"


def test_unreachable_upstream_lists_the_cached_tags(client, upstream, hub_cache, image_one, caplog):
    upstream.image_push("library/offline", "1", image_one)
    assert client.get("/v2/hub/library/offline/manifests/1", **ACCEPT).status_code == 200
    ProxyCache.objects.filter(pk=hub_cache.pk).update(
        upstream_url=f"http://127.0.0.1:{free_port()}"
    )

    with caplog.at_level(logging.WARNING, logger="registry_api.proxy.tags"):
        response = client.get("/v2/hub/library/offline/tags/list")
        never = client.get("/v2/hub/library/never-cached/tags/list")

    assert response.status_code == 200
    assert response.json()["tags"] == ["1"]
    assert "listing cached tags of hub/library/offline only" in caplog.text
    assert never.status_code == 503
    assert never.json()["errors"][0]["code"] == "UNAVAILABLE"
