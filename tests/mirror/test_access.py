"""Who may do what on mirrored names: anyone pulls (or only signed-in users), nobody pushes."""

from __future__ import annotations

import pytest

from registry_api.models import ProxyCache
from tests.conftest import basic_auth
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def token_for(client, scope: str, auth: str | None = None) -> dict:
    headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
    response = client.get("/auth/token", {"service": "dockyard", "scope": scope}, **headers)
    assert response.status_code == 200, response.content
    return response.json()


def granted(client, scope: str, auth: str | None = None) -> list[str]:
    from hub.registry_tokens import token_verify

    claims = token_verify(token_for(client, scope, auth)["token"])
    return claims["access"][0]["actions"] if claims["access"] else []


def test_tokens_grant_pull_only_on_mirrored_names(client, hub_cache, alice):
    scope = "repository:hub/library/alpine:pull,push"
    assert granted(client, scope) == ["pull"]
    assert granted(client, scope, basic_auth("alice")) == ["pull"]
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    assert granted(client, scope, basic_auth(admin.username)) == ["pull"]


def test_push_into_a_mirrored_namespace_is_denied(client, upstream, hub_cache, alice, image_one):
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    for user in (alice, admin):
        response = client.post(
            "/v2/hub/library/new/blobs/uploads/", HTTP_AUTHORIZATION=basic_auth(user.username)
        )
        assert response.status_code == 403, response.content
        assert response.json()["errors"][0]["code"] == "DENIED"
    # The same once the mirrored repository exists.
    upstream.image_push("library/existing", "1", image_one)
    assert client.get("/v2/hub/library/existing/manifests/1").status_code == 200
    put = client.put(
        "/v2/hub/library/existing/manifests/2",
        data=image_one.oci_manifest_bytes(),
        content_type="application/vnd.oci.image.manifest.v1+json",
        HTTP_AUTHORIZATION=basic_auth("alice"),
    )
    assert put.status_code == 403
    assert put.json()["errors"][0]["code"] == "DENIED"
    anonymous = client.post("/v2/hub/library/new/blobs/uploads/")
    assert anonymous.status_code == 401


def test_prefixless_mirror_token_and_push(client, settings, upstream, alice):
    settings.MIRROR_UPSTREAM_URL = upstream.url
    assert granted(client, "repository:library/busybox:pull,push") == ["pull"]
    # alice's own namespace is hers, not the mirror's: she may push, others see nothing.
    assert granted(client, "repository:alice/new:pull,push", basic_auth("alice")) == [
        "pull",
        "push",
    ]
    assert granted(client, "repository:alice/new:pull") == []


def test_sign_in_can_be_required(client, upstream, hub_cache, alice, image_one):
    ProxyCache.objects.filter(pk=hub_cache.pk).update(require_sign_in=True)
    upstream.image_push("library/private-ish", "1", image_one)
    path = "/v2/hub/library/private-ish/manifests/1"

    assert client.get(path).status_code == 401
    assert granted(client, "repository:hub/library/private-ish:pull") == []
    assert client.get(path, HTTP_AUTHORIZATION=basic_auth("alice")).status_code == 200
    # Still required once cached.
    assert client.get(path).status_code == 401
    assert granted(client, "repository:hub/library/private-ish:pull") == []
    assert granted(client, "repository:hub/library/private-ish:pull", basic_auth("alice")) == [
        "pull"
    ]


def test_the_docker_token_flow_pulls_anonymously(client, upstream, hub_cache, image_one):
    digest = upstream.image_push("library/tokened", "1", image_one)
    token = token_for(client, "repository:hub/library/tokened:pull")["token"]

    response = client.get(
        "/v2/hub/library/tokened/manifests/1", HTTP_AUTHORIZATION=f"Bearer {token}"
    )

    assert response.status_code == 200
    assert response["Docker-Content-Digest"] == digest
