"""`Authorization: Basic` on every surface that takes it: one reader (hub.credentials), each
surface answering in its own protocol's words."""

from __future__ import annotations

import pytest
from django.conf import settings

from tests.conftest import basic_auth

NOT_BASE64 = "Basic ###"
NOT_ASCII = "Basic \u00e9t\u00e9"
NO_COLON = "Basic YWxpY2U="  # "alice"
WRONG = basic_auth("alice", "wrong-password")

# (path, query, status for wrong credentials, the error code its body carries)
SURFACES = {
    "registry": ("/v2/_catalog", {}, 401, "UNAUTHORIZED"),
    "token service": ("/auth/token", {"service": "<service>"}, 401, "UNAUTHORIZED"),
    "docker search": ("/v1/search", {"q": "app"}, 401, "UNAUTHORIZED"),
}


def _get(client, surface: str, authorization: str):
    path, query, *_ = SURFACES[surface]
    query = {k: settings.REGISTRY_SERVICE if v == "<service>" else v for k, v in query.items()}
    return client.get(path, query, HTTP_AUTHORIZATION=authorization)


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("authorization", [NOT_BASE64, NOT_ASCII, NO_COLON, WRONG])
def test_bad_basic_credentials_get_the_surfaces_error(client, alice, surface, authorization):
    response = _get(client, surface, authorization)
    _, _, status, code = SURFACES[surface]
    assert response.status_code == status, response.content
    assert response.json()["errors"][0]["code"] == code


@pytest.mark.parametrize("authorization", [NOT_BASE64, NOT_ASCII])
def test_rest_api_refuses_undecodable_basic(client, alice, authorization):
    response = client.get("/api/v1/users/me/", HTTP_AUTHORIZATION=authorization)
    assert response.status_code == 401
    assert response.json()["detail"] == "Malformed Basic credentials."


@pytest.mark.parametrize("surface", SURFACES)
def test_right_basic_credentials_pass_everywhere(client, alice, public_repo, surface):
    response = _get(client, surface, basic_auth("alice"))
    assert response.status_code == 200, response.content


def test_rest_api_takes_right_basic(client, alice):
    response = client.get("/api/v1/users/me/", HTTP_AUTHORIZATION=basic_auth("alice"))
    assert response.status_code == 200
    assert response.json()["username"] == "alice"


def test_a_value_without_colon_costs_no_sign_in_attempt(client, alice, settings):
    """It names no secret: refusing it must not count towards alice's lockout."""
    settings.LOGIN_FAILURE_LIMIT = 1
    for _ in range(3):
        assert _get(client, "registry", NO_COLON).status_code == 401
    assert _get(client, "registry", basic_auth("alice")).status_code == 200
