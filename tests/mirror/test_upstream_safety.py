"""Where the cache sends requests and credentials: upstream credentials only to the upstream's
host or a token realm the administrator listed, never along a redirect to another host, and no
upstream (or realm) on a private address unless MIRROR_ALLOW_PRIVATE_UPSTREAMS allows it.

Two hosts on loopback stand for two machines: 127.0.0.1 (the upstream) and 127.0.0.2.
"""

from __future__ import annotations

import base64
import os

import pytest
from django.core.cache import cache

from registry_api.models import ProxyCache
from tests.conftest import basic_auth
from tests.factories import UserFactory
from tests.mirror.fake_upstream import TOKEN, FakeUpstream

pytestmark = pytest.mark.django_db

CREDENTIALS = ("robot", "s3cret")
BASIC = "Basic " + base64.b64encode(b"robot:s3cret").decode()


@pytest.fixture
def bearer_upstream():
    server = FakeUpstream(bearer=True).start()
    yield server
    server.stop()


@pytest.fixture
def elsewhere():
    """A server on another host: a token realm or a CDN, depending on the test."""
    server = FakeUpstream(host="127.0.0.2").start()
    yield server
    server.stop()


def cache_with_credentials(upstream) -> ProxyCache:
    return ProxyCache.objects.create(
        namespace="tok",
        upstream_url=upstream.url,
        username=CREDENTIALS[0],
        password=CREDENTIALS[1],
    )


def test_credentials_go_only_to_an_approved_token_realm(
    client, settings, bearer_upstream, elsewhere
):
    digest = bearer_upstream.manifest("library/tok", "1", [b"{}", b"layer"])
    bearer_upstream.realm = f"{elsewhere.url}/token"
    cache_with_credentials(bearer_upstream)

    response = client.get("/v2/tok/library/tok/manifests/1")

    # The realm's host is not the upstream's: the token is asked for anonymously.
    assert response.status_code == 200, response.content
    assert response["Docker-Content-Digest"] == digest
    assert elsewhere.authorizations == [("GET /token", None)]

    settings.MIRROR_TOKEN_REALM_HOSTS = ["127.0.0.2"]
    cache.clear()  # forget the token
    bearer_upstream.manifest("library/tok", "2", [b"{}", b"other layer"])
    assert client.get("/v2/tok/library/tok/manifests/2").status_code == 200
    assert elsewhere.authorizations[-1] == ("GET /token", BASIC)


def test_the_upstreams_own_host_gets_the_credentials(client, bearer_upstream):
    bearer_upstream.manifest("library/tok", "1", [b"{}", b"layer"])
    cache_with_credentials(bearer_upstream)

    assert client.get("/v2/tok/library/tok/manifests/1").status_code == 200

    assert ("GET /token", BASIC) in bearer_upstream.authorizations


def test_https_upstream_credentials_never_go_to_a_plain_http_realm(settings):
    from registry_api.proxy.client import UpstreamClient
    from registry_api.proxy.upstreams import upstream_for

    settings.MIRROR_TOKEN_REALM_HOSTS = ["auth.example.com"]
    ProxyCache.objects.create(namespace="sec", upstream_url="https://registry.example.com")
    client = UpstreamClient(upstream_for("sec/x"))

    assert client.realm_approved("https://registry.example.com/token")
    assert client.realm_approved("https://auth.example.com/token")
    assert not client.realm_approved("http://registry.example.com/token")
    assert not client.realm_approved("https://evil.example/token")
    assert not client.realm_approved("https://[bad/token")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("refuse_head", [False, True], ids=["cdn", "cdn-refusing-head"])
def test_a_blob_redirect_to_another_host_carries_no_credentials(
    client, bearer_upstream, elsewhere, refuse_head
):
    data = os.urandom(200 * 1024)
    bearer_upstream.manifest("library/cdn", "1", [b"{}", data])
    digest = elsewhere.blob(data)
    bearer_upstream.blob_redirect = elsewhere.url
    elsewhere.refuse_head = refuse_head
    cache_with_credentials(bearer_upstream)
    path = f"/library/cdn/blobs/{digest}"

    # The upstream's redirect is its yes: the blob is there for this repository.
    assert client.head(f"/v2/tok{path}").status_code == 200
    response = client.get(f"/v2/tok{path}")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    asked = [auth for request, auth in bearer_upstream.authorizations if "/blobs/" in request]
    assert f"Bearer {TOKEN}" in asked  # the upstream got its token, the other host nothing
    assert (f"GET /v2{path}", None) in elsewhere.authorizations
    assert {auth for _, auth in elsewhere.authorizations} == {None}


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:5000",
        "http://localhost:5000",
        "http://[::1]:5000",
        "http://10.1.2.3",
        "http://169.254.169.254",
        "http://[::ffff:127.0.0.1]",
    ],
)
def test_a_private_upstream_is_refused_at_save(client, settings, url):
    settings.MIRROR_ALLOW_PRIVATE_UPSTREAMS = False
    UserFactory(username="root", is_superuser=True, is_staff=True)

    refused = client.post(
        "/api/v1/proxy-caches/",
        {"namespace": "lan", "upstream_url": url},
        content_type="application/json",
        HTTP_AUTHORIZATION=basic_auth("root"),
    )

    assert refused.status_code == 400
    assert set(refused.json()) == {"upstream_url"}
    assert "MIRROR_ALLOW_PRIVATE_UPSTREAMS" in refused.json()["upstream_url"][0]
    assert not ProxyCache.objects.exists()


def test_the_admin_refuses_a_private_upstream_unless_allowed(client, settings):
    settings.MIRROR_ALLOW_PRIVATE_UPSTREAMS = False
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    form = {"namespace": "lan", "upstream_url": "http://127.0.0.1:5000", "cache_ttl_seconds": 60}

    refused = client.post("/admin/registry_api/proxycache/add/", form)

    assert refused.status_code == 200
    assert b"MIRROR_ALLOW_PRIVATE_UPSTREAMS" in refused.content
    assert not ProxyCache.objects.exists()
    settings.MIRROR_ALLOW_PRIVATE_UPSTREAMS = True
    assert client.post("/admin/registry_api/proxycache/add/", form).status_code == 302
    assert ProxyCache.objects.filter(namespace="lan").exists()


@pytest.mark.parametrize("mode", ["proxy cache", "mirror"])
def test_a_private_upstream_is_refused_at_connect(client, settings, fake_upstream, mode):
    """A cache saved while allowed (or a name re-pointed since): nothing reaches the address."""
    fake_upstream.manifest("library/lan", "1", [b"{}", b"layer"])
    if mode == "mirror":
        settings.MIRROR_UPSTREAM_URL = fake_upstream.url
        path = "/v2/library/lan/manifests/1"
    else:
        ProxyCache.objects.create(namespace="lan", upstream_url=fake_upstream.url)
        path = "/v2/lan/library/lan/manifests/1"
    settings.MIRROR_ALLOW_PRIVATE_UPSTREAMS = False

    response = client.get(path)

    assert response.status_code == 503
    assert response.json()["errors"][0]["code"] == "UNAVAILABLE"
    assert sum(fake_upstream.requests.values()) == 0
