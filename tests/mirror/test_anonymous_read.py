"""Without ANONYMOUS_READ the pull-through cache serves signed-in users only, whatever the
cache's own require_sign_in says (MIRROR_REQUIRE_SIGN_IN is then implied)."""

from __future__ import annotations

import pytest

from hub.registry_tokens import token_verify
from tests.conftest import basic_auth

pytestmark = pytest.mark.django_db


def _granted(client, scope: str, auth: str | None = None) -> list[str]:
    headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
    response = client.get("/auth/token", {"service": "dockyard", "scope": scope}, **headers)
    return token_verify(response.json()["token"])["access"][0]["actions"]


def test_anonymous_mirror_pulls_are_refused(
    client, settings, upstream, hub_cache, alice, image_one
):
    settings.ANONYMOUS_READ = False
    assert not hub_cache.require_sign_in
    upstream.image_push("library/open-mirror", "1", image_one)
    path = "/v2/hub/library/open-mirror/manifests/1"
    scope = "repository:hub/library/open-mirror:pull"

    assert client.get(path).status_code == 401
    assert _granted(client, scope) == []
    assert client.get(path, HTTP_AUTHORIZATION=basic_auth("alice")).status_code == 200
    assert _granted(client, scope, basic_auth("alice")) == ["pull"]
    # Once cached, still refused to anonymous callers.
    assert client.get(path).status_code == 401
    settings.ANONYMOUS_READ = True
    assert client.get(path).status_code == 200
