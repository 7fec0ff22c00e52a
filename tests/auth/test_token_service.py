"""The Docker token spec's cases against GET/POST /auth/token."""

from __future__ import annotations

import pytest
from django.conf import settings

from hub.registry_tokens import token_verify
from hub.services.access_tokens import access_token_create, access_token_revoke
from tests.conftest import PASSWORD, basic_auth

URL = "/auth/token"


def _access(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return token_verify(response.json()["token"])["access"]


def _get(client, *scopes, auth=None, **params):
    query = {"service": settings.REGISTRY_SERVICE, **params}
    if scopes:
        query["scope"] = list(scopes)
    headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
    return client.get(URL, query, **headers)


def test_anonymous_gets_pull_on_public_only(client, public_repo, private_repo):
    response = _get(client, "repository:alice/app:pull,push", "repository:alice/secret:pull")
    body = response.json()
    assert body["token"] == body["access_token"]
    assert body["expires_in"] >= 60
    assert body["issued_at"].endswith("Z")
    assert "refresh_token" not in body
    claims = token_verify(body["token"])
    assert claims["sub"] == ""
    assert claims["aud"] == settings.REGISTRY_SERVICE
    assert claims["access"] == [
        {"type": "repository", "name": "alice/app", "actions": ["pull"]},
        {"type": "repository", "name": "alice/secret", "actions": []},
    ]


def test_login_without_scope_with_password(client, alice):
    response = _get(client, auth=basic_auth("alice"), account="alice", client_id="docker")
    claims = token_verify(response.json()["token"])
    assert claims["sub"] == "alice" and claims["access"] == []


def test_wrong_password_is_401_with_basic_challenge(client, alice):
    response = _get(client, auth=basic_auth("alice", "wrong"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic realm=")
    assert response.json()["errors"][0]["code"] == "UNAUTHORIZED"
    assert _get(client, auth=basic_auth("nobody")).status_code == 401
    assert _get(client, auth="Basic !!!notbase64").status_code == 401


def test_unknown_service_refused_missing_service_accepted(client, alice):
    assert client.get(URL, {"service": "other"}).status_code == 400
    response = client.get(URL, HTTP_AUTHORIZATION=basic_auth("alice"))
    assert token_verify(response.json()["token"])["sub"] == "alice"


def test_owner_gets_everything_asked_for(client, public_repo, private_repo):
    access = _access(
        _get(
            client,
            "repository:alice/app:pull,push,delete",
            "repository:alice/secret:*",
            auth=basic_auth("alice"),
        )
    )
    assert access == [
        {"type": "repository", "name": "alice/app", "actions": ["pull", "push", "delete"]},
        {"type": "repository", "name": "alice/secret", "actions": ["pull", "push", "delete"]},
    ]


def test_partial_grant_is_not_an_error(client, public_repo, private_repo, charlie, bob):
    access = _access(_get(client, "repository:alice/app:pull,push", auth=basic_auth("charlie")))
    assert access == [{"type": "repository", "name": "alice/app", "actions": ["pull"]}]
    access = _access(
        _get(client, "repository:alice/secret:pull,push,delete", auth=basic_auth("bob"))
    )
    assert access[0]["actions"] == ["pull", "push"]


def test_private_repository_is_like_a_missing_one(client, private_repo, charlie):
    hidden = _access(_get(client, "repository:alice/secret:pull,push", auth=basic_auth("charlie")))
    missing = _access(_get(client, "repository:alice/nope:pull,push", auth=basic_auth("charlie")))
    assert hidden[0]["actions"] == missing[0]["actions"] == []


def test_push_to_create_in_own_namespace_and_org(client, alice, acme, dave, charlie):
    access = _access(
        _get(
            client,
            "repository:alice/new:pull,push",
            "repository:acme/tools/new:push",
            "repository:charlie/x:push",
            "repository:nonamespace:push",
            auth=basic_auth("dave"),
        )
    )
    assert [entry["actions"] for entry in access] == [[], ["push"], [], []]
    access = _access(_get(client, "repository:alice/new:pull,push", auth=basic_auth("alice")))
    assert access[0]["actions"] == ["pull", "push"]


def test_a_repository_to_be_created_grants_what_its_creator_will_hold(client, alice, acme, dave):
    wanted = "pull,push,delete"
    access = _access(_get(client, f"repository:alice/new:{wanted}", auth=basic_auth("alice")))
    assert access[0]["actions"] == ["pull", "push", "delete"]  # the owner may delete
    access = _access(_get(client, f"repository:acme/new:{wanted}", auth=basic_auth("dave")))
    assert access[0]["actions"] == ["pull", "push"]  # an organization member writes only
    token = access_token_create(user=alice, label="ci", scopes=["repo:write"])[1]
    access = _access(
        _get(client, f"repository:alice/new:{wanted}", auth=basic_auth("alice", token))
    )
    assert access[0]["actions"] == ["pull", "push"]  # the access token's scopes still hold


def test_multiple_scopes_merge_and_odd_ones_grant_nothing(client, public_repo, alice):
    access = _access(
        _get(
            client,
            "repository:alice/app:pull",
            "repository:alice/app:push",
            "repository(plugin):alice/app:delete",
            "widget:thing:frob",
            "garbage",
            "repository:Bad_Name!:pull",
            auth=basic_auth("alice"),
        )
    )
    assert access == [
        {"type": "repository", "name": "alice/app", "actions": ["pull", "push", "delete"]},
        {"type": "widget", "name": "thing", "actions": []},
        {"type": "repository", "name": "Bad_Name!", "actions": []},
    ]


def test_catalog_scope_is_granted_to_anonymous_and_signed_in_callers(client, alice):
    access = _access(_get(client, "registry:catalog:*", auth=basic_auth("alice")))
    assert access == [{"type": "registry", "name": "catalog", "actions": ["*"]}]
    access = _access(_get(client, "registry:catalog:*"))
    assert access == [{"type": "registry", "name": "catalog", "actions": ["*"]}]


def test_access_token_as_password_is_limited_by_its_scopes(client, public_repo, alice):
    _token, secret = access_token_create(user=alice, label="ci", scopes=["repo:read"])
    access = _access(
        _get(client, "repository:alice/app:pull,push", auth=basic_auth("alice", secret))
    )
    assert access[0]["actions"] == ["pull"]
    _token, secret = access_token_create(user=alice, label="push", scopes=["repo:write"])
    access = _access(
        _get(client, "repository:alice/app:pull,push,delete", auth=basic_auth("alice", secret))
    )
    assert access[0]["actions"] == ["pull", "push"]


def test_revoked_access_token_is_refused(client, alice):
    token, secret = access_token_create(user=alice, label="ci", scopes=["repo:read"])
    access_token_revoke(token=token)
    assert _get(client, auth=basic_auth("alice", secret)).status_code == 401


def test_access_token_of_another_user_is_refused(client, alice, bob):
    _token, secret = access_token_create(user=alice, label="ci", scopes=["repo:read"])
    assert _get(client, auth=basic_auth("bob", secret)).status_code == 401


def test_offline_token_gives_refresh_token_usable_by_post(client, public_repo, alice):
    response = _get(client, auth=basic_auth("alice"), offline_token="true", client_id="docker")
    refresh = response.json()["refresh_token"]
    response = client.post(
        URL,
        {
            "grant_type": "refresh_token",
            "refresh_token": refresh,
            "service": settings.REGISTRY_SERVICE,
            "client_id": "docker",
            "scope": "repository:alice/app:pull,push repository:alice/other:push",
            "access_type": "offline",
        },
    )
    body = response.json()
    assert response.status_code == 200
    assert body["scope"] == "repository:alice/app:pull,push repository:alice/other:push"
    assert body["refresh_token"]
    assert token_verify(body["access_token"])["sub"] == "alice"


def test_refresh_token_dies_with_password_change_and_token_revocation(client, alice):
    refresh = _get(client, auth=basic_auth("alice"), offline_token="true").json()["refresh_token"]
    token, secret = access_token_create(user=alice, label="ci", scopes=["repo:read"])
    from_token = _get(client, auth=basic_auth("alice", secret), offline_token="true").json()[
        "refresh_token"
    ]

    def refresh_with(value):
        return client.post(URL, {"grant_type": "refresh_token", "refresh_token": value})

    assert refresh_with(from_token).status_code == 200
    access_token_revoke(token=token)
    assert refresh_with(from_token).status_code == 401
    assert refresh_with(refresh).status_code == 200
    alice.set_password("a-new-long-password")
    alice.save()
    assert refresh_with(refresh).status_code == 401
    assert refresh_with("forged:value").status_code == 401
    assert refresh_with("").status_code == 401


def test_refresh_token_keeps_access_token_scopes(client, public_repo, alice):
    _token, secret = access_token_create(user=alice, label="ci", scopes=["repo:read"])
    refresh = _get(client, auth=basic_auth("alice", secret), offline_token="true").json()[
        "refresh_token"
    ]
    response = client.post(
        URL,
        {
            "grant_type": "refresh_token",
            "refresh_token": refresh,
            "scope": "repository:alice/app:pull,push",
        },
    )
    assert _access(response)[0]["actions"] == ["pull"]


def test_post_password_grant(client, public_repo, alice):
    response = client.post(
        URL,
        {
            "grant_type": "password",
            "username": "alice",
            "password": PASSWORD,
            "service": settings.REGISTRY_SERVICE,
            "client_id": "docker",
            "scope": "repository:alice/app:push",
        },
    )
    assert _access(response) == [{"type": "repository", "name": "alice/app", "actions": ["push"]}]
    assert "refresh_token" not in response.json()
    wrong = client.post(URL, {"grant_type": "password", "username": "alice", "password": "nope"})
    assert wrong.status_code == 401
    assert client.post(URL, {"grant_type": "magic"}).status_code == 400


@pytest.mark.parametrize("method", ["get", "post"])
def test_throttling_answers_429(client, alice, settings, method):
    settings.LOGIN_FAILURE_LIMIT = 3

    def attempt(password):
        if method == "get":
            return _get(client, auth=basic_auth("alice", password))
        return client.post(
            URL, {"grant_type": "password", "username": "alice", "password": password}
        )

    assert [attempt("wrong").status_code for _ in range(3)] == [401, 401, 401]
    response = attempt(PASSWORD)
    assert response.status_code == 429
    assert response.json()["errors"][0]["code"] == "TOOMANYREQUESTS"


def test_jwks_publishes_the_verifying_key(client):
    import jwt

    keys = client.get("/.well-known/jwks.json").json()["keys"]
    token = _get(client).json()["token"]
    header = jwt.get_unverified_header(token)
    (key,) = [k for k in keys if k["kid"] == header["kid"]]
    assert header["alg"] == key["alg"] == "ES256"
    public = jwt.algorithms.ECAlgorithm.from_jwk(key)
    claims = jwt.decode(token, public, algorithms=["ES256"], audience=settings.REGISTRY_SERVICE)
    assert set(claims) >= {"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "access"}


def test_odd_credentials_are_401_not_500(client, alice):
    import base64

    for raw in (b"alice\x00:x", b"alice:\x00", b"\xff\xfe:x", b"no-colon", b":"):
        header = "Basic " + base64.b64encode(raw).decode()
        assert _get(client, auth=header).status_code == 401, raw
    response = client.post(
        URL, {"grant_type": "password", "username": "ali\x00ce", "password": "x"}
    )
    assert response.status_code == 401


@pytest.mark.parametrize("method", ["get", "post"])
def test_scope_amplification_is_refused(client, public_repo, alice, method):
    many = [f"repository:alice/app{i}:pull" for i in range(65)]
    if method == "get":
        response = _get(client, *many, auth=basic_auth("alice"))
        spaced = _get(client, " ".join(many), auth=basic_auth("alice"))
    else:
        form = {"grant_type": "password", "username": "alice", "password": PASSWORD}
        response = client.post(URL, {**form, "scope": many})
        spaced = client.post(URL, {**form, "scope": " ".join(many)})
    for refused in (response, spaced):
        assert refused.status_code == 400
        assert refused.json()["errors"][0]["code"] == "DENIED"
        assert "64 scopes" in refused.json()["details"]
    granted = _access(_get(client, *many[:64], auth=basic_auth("alice")))
    assert len(granted) == 64  # the cap itself is accepted


def test_an_oversized_token_request_is_refused(client, alice):
    response = client.get(URL, {"service": settings.REGISTRY_SERVICE, "x": "a" * 40000})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "DENIED"
    body = client.post(URL, {"grant_type": "password", "username": "a" * 40000})
    assert body.status_code == 400
