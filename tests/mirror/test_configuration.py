"""Configuring proxy caches: the admin site and the REST API, administrators only."""

from __future__ import annotations

import pytest

from hub.models import Namespace, Repository
from registry_api.models import ProxyCache, Tag
from tests.conftest import basic_auth
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


def test_admin_creates_a_cache_and_reserves_its_namespace(client, root):
    client.force_login(root)
    response = client.post(
        "/admin/registry_api/proxycache/add/",
        {
            "namespace": "ghcr",
            "upstream_url": "https://ghcr.io/",
            "username": "bot",
            "password": "tok",
            "cache_ttl_seconds": 600,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    cache = ProxyCache.objects.get(namespace="ghcr")
    assert cache.upstream_url == "https://ghcr.io"
    assert cache.password == "tok"
    assert Namespace.objects.get(name="ghcr").kind == Namespace.Kind.ORGANIZATION

    # Editing with a blank password keeps the stored one; the form never shows it.
    page = client.get(f"/admin/registry_api/proxycache/{cache.pk}/change/")
    assert b"tok" not in page.content.split(b'name="password"')[1][:200]
    client.post(
        f"/admin/registry_api/proxycache/{cache.pk}/change/",
        {
            "namespace": "ghcr",
            "upstream_url": "https://ghcr.io",
            "username": "bot",
            "password": "",
            "cache_ttl_seconds": 60,
        },
    )
    cache.refresh_from_db()
    assert cache.password == "tok" and cache.cache_ttl_seconds == 60


def test_admin_refuses_a_namespace_someone_owns(client, root, alice):
    client.force_login(root)
    response = client.post(
        "/admin/registry_api/proxycache/add/",
        {"namespace": "alice", "upstream_url": "https://ghcr.io", "cache_ttl_seconds": 600},
    )
    assert response.status_code == 200
    assert b"belongs to a user" in response.content
    assert not ProxyCache.objects.exists()


def test_admin_action_expires_cached_tags(client, root, upstream, hub_cache, image_one):
    upstream.image_push("tools/expiring", "1", image_one)
    client.get("/v2/hub/tools/expiring/manifests/1")
    assert Tag.objects.get(name="1", repository__name="tools/expiring").verified_at is not None
    client.force_login(root)

    client.post(
        "/admin/registry_api/proxycache/",
        {"action": "expire_cached_tags", "_selected_action": [hub_cache.pk]},
    )

    assert Tag.objects.get(name="1", repository__name="tools/expiring").verified_at is None
    listing = client.get("/admin/registry_api/proxycache/")
    assert listing.status_code == 200
    assert Repository.objects.filter(namespace__name="hub").count() == 1


def test_rest_api_manages_caches_for_superusers_only(client, root, alice):
    body = {"namespace": "quay", "upstream_url": "https://quay.io", "password": "p"}
    refused = client.post(
        "/api/v1/proxy-caches/",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=basic_auth("alice"),
    )
    assert refused.status_code == 403
    assert client.get("/api/v1/proxy-caches/").status_code in (401, 403)

    auth = {"HTTP_AUTHORIZATION": basic_auth("root")}
    created = client.post("/api/v1/proxy-caches/", body, content_type="application/json", **auth)
    assert created.status_code == 201, created.content
    assert created.json()["has_password"] is True and "password" not in created.json()

    changed = client.patch(
        "/api/v1/proxy-caches/quay/",
        {"cache_ttl_seconds": 5, "password": ""},
        content_type="application/json",
        **auth,
    )
    assert changed.status_code == 200
    assert ProxyCache.objects.get(namespace="quay").password == "p"
    assert client.get("/api/v1/proxy-caches/", **auth).json()[0]["cache_ttl_seconds"] == 5

    for wrong, field in (
        ({"namespace": "alice", "upstream_url": "https://x.example"}, "namespace"),
        ({"namespace": "other", "upstream_url": "ftp://x.example"}, "upstream_url"),
    ):
        refused = client.post(
            "/api/v1/proxy-caches/", wrong, content_type="application/json", **auth
        )
        assert refused.status_code == 400
        assert set(refused.json()) == {field}

    assert client.delete("/api/v1/proxy-caches/quay/", **auth).status_code == 204
    assert not ProxyCache.objects.exists()
