"""REST API of robot accounts, and robots at the token service, the /v2/ gate and the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from hub.models import AuditEntry, Robot
from hub.registry_tokens import token_verify
from tests import factories
from tests.api.conftest import API
from tests.conftest import basic_auth
from tests.registry_api.conftest import blob_upload

ORG_ROBOTS = f"{API}/orgs/acme/robots/"


@pytest.fixture
def acme_app(acme):
    return factories.RepositoryFactory(namespace=acme.namespace, name="app", is_private=True)


def _create(client, url=ORG_ROBOTS, **body):
    body.setdefault("name", "ci")
    return client.post(url, body, format="json")


def _robot_client(name, secret):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic_auth(name, secret))
    return client


def test_owner_creates_robot_and_sees_the_secret_once(as_user, alice, acme_app):
    owner = as_user(alice)
    created = _create(
        owner,
        description="builds",
        permissions=[{"repository": "app", "level": "push"}, {"level": "pull"}],
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["name"] == "acme+ci" and body["robot"] == "ci" and body["namespace"] == "acme"
    secret = body["secret"]
    assert secret and body["created_by"] == "alice" and body["disabled"] is False
    assert {"repository": "app", "level": "push"} in body["permissions"]
    assert {"repository": None, "level": "pull"} in body["permissions"]
    listed = owner.get(ORG_ROBOTS).json()
    assert [r["name"] for r in listed["results"]] == ["acme+ci"]
    for answer in (owner.get(ORG_ROBOTS), owner.get(f"{ORG_ROBOTS}ci/")):
        assert secret not in answer.content.decode()
    assert "secret" not in owner.get(f"{ORG_ROBOTS}ci/").json()
    entry = AuditEntry.objects.get(action="robot.create")
    assert entry.actor == alice and secret not in str(entry.data)


def test_member_and_outsider_cannot_list_or_create(as_user, acme, dave, charlie, api):
    for client in (as_user(dave), as_user(charlie)):
        assert client.get(ORG_ROBOTS).status_code == 403
        assert _create(client).status_code == 403
    assert api.get(ORG_ROBOTS).status_code in (401, 403)
    assert as_user(dave).get(f"{API}/orgs/nope/robots/").status_code == 404


def test_user_robots_are_the_users_own(as_user, alice, bob, public_repo):
    created = _create(
        as_user(alice),
        url=f"{API}/users/me/robots/",
        permissions=[{"repository": "app", "level": "pull"}],
    )
    assert created.status_code == 201, created.content
    assert created.json()["name"] == "alice+ci"
    assert as_user(bob).get(f"{API}/users/me/robots/").json()["results"] == []
    assert as_user(bob).get(f"{API}/users/me/robots/ci/").status_code == 404


def test_bad_input_is_a_validation_error(as_user, alice, acme):
    owner = as_user(alice)
    assert _create(owner, name="Bad Name").status_code == 400
    assert _create(owner, permissions=[{"repository": "nope", "level": "pull"}]).status_code == 400
    assert _create(owner, permissions=[{"level": "admin"}]).status_code == 400
    past = (timezone.now() - dt.timedelta(days=1)).isoformat()
    assert _create(owner, expires_at=past).status_code == 400
    assert _create(owner).status_code == 201
    assert _create(owner).status_code == 400  # the name is taken


def test_rotate_returns_a_new_secret_and_kills_the_old(as_user, alice, acme, settings):
    settings.PASSWORD_CHECK_CACHE_SECONDS = 60
    owner = as_user(alice)
    old = _create(owner).json()["secret"]
    assert _robot_client("acme+ci", old).get(f"{API}/repositories/").status_code == 200
    rotated = owner.post(f"{ORG_ROBOTS}ci/rotate/")
    assert rotated.status_code == 200
    new = rotated.json()["secret"]
    assert rotated.json()["name"] == "acme+ci" and new != old
    assert _robot_client("acme+ci", old).get(f"{API}/repositories/").status_code == 401
    assert _robot_client("acme+ci", new).get(f"{API}/repositories/").status_code == 200
    assert as_user(factories.UserFactory()).post(f"{ORG_ROBOTS}ci/rotate/").status_code == 403


def test_update_disable_and_delete(as_user, alice, acme, acme_app):
    owner = as_user(alice)
    secret = _create(owner).json()["secret"]
    changed = owner.patch(
        f"{ORG_ROBOTS}acme+ci/",
        {
            "description": "new",
            "disabled": True,
            "permissions": [{"repository": "app", "level": "delete"}],
        },
        format="json",
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["disabled"] is True
    assert changed.json()["permissions"] == [{"repository": "app", "level": "delete"}]
    assert _robot_client("acme+ci", secret).get(f"{API}/repositories/").status_code == 401
    assert owner.delete(f"{ORG_ROBOTS}ci/").status_code == 204
    assert owner.get(f"{ORG_ROBOTS}ci/").status_code == 404
    entries = AuditEntry.objects.order_by("created_at")
    actions = [entry.action for entry in entries]
    # The disabled robot's attempt is a refused sign-in, recorded with the rest.
    assert actions == ["robot.create", "robot.update", "login", "robot.delete"]
    assert entries.get(action="login").result == "denied"


def test_a_robot_manages_no_robots_and_makes_no_access_tokens(as_user, alice, acme):
    secret = _create(as_user(alice), permissions=[{"level": "delete"}]).json()["secret"]
    robot = _robot_client("acme+ci", secret)
    assert robot.get(ORG_ROBOTS).status_code == 403
    assert robot.get(f"{API}/users/me/robots/").status_code == 403
    made = robot.post(
        f"{API}/access-tokens/", {"label": "x", "scopes": ["repo:read"]}, format="json"
    )
    assert made.status_code == 403


def test_a_robot_neither_stars_nor_comments(as_user, alice, acme, acme_app):
    """A robot is a machine credential: social actions would carry no person behind them."""
    secret = _create(as_user(alice), permissions=[{"level": "delete"}]).json()["secret"]
    robot = _robot_client("acme+ci", secret)
    base = f"{API}/repositories/acme/app"
    assert robot.get(f"{base}/").status_code == 200  # it may read what it is granted
    assert robot.post(f"{base}/star/").status_code == 403
    made = robot.post(f"{base}/comments/", {"body": "from CI"}, format="json")
    assert made.status_code == 403
    assert "robot" in made.json()["detail"].lower()
    assert not acme_app.stars.exists()
    assert not acme_app.comments.exists()


def _token(client, auth, *scopes):
    response = client.get(
        "/auth/token",
        {"service": settings.REGISTRY_SERVICE, "scope": list(scopes)},
        HTTP_AUTHORIZATION=auth,
    )
    return response


def test_token_service_grants_a_pull_robot_only_pull(client, as_user, alice, acme_app):
    secret = _create(as_user(alice), permissions=[{"repository": "app", "level": "pull"}]).json()[
        "secret"
    ]
    response = _token(client, basic_auth("acme+ci", secret), "repository:acme/app:pull,push")
    assert response.status_code == 200, response.content
    claims = token_verify(response.json()["token"])
    assert claims["sub"] == "acme+ci"
    assert claims["access"] == [{"type": "repository", "name": "acme/app", "actions": ["pull"]}]
    other = _token(client, basic_auth("acme+ci", secret), "repository:alice/new:pull,push")
    assert token_verify(other.json()["token"])["access"][0]["actions"] == []


def test_expired_and_disabled_robots_get_no_token(client, as_user, alice, acme):
    owner = as_user(alice)
    secret = _create(owner).json()["secret"]
    auth = basic_auth("acme+ci", secret)
    assert _token(client, auth).status_code == 200
    owner.patch(f"{ORG_ROBOTS}ci/", {"disabled": True}, format="json")
    assert _token(client, auth).status_code == 401
    owner.patch(f"{ORG_ROBOTS}ci/", {"disabled": False}, format="json")
    assert _token(client, auth).status_code == 200

    Robot.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert _token(client, auth).status_code == 401
    assert client.get("/v2/", HTTP_AUTHORIZATION=auth).status_code == 401


def test_pull_only_robot_cannot_push_with_basic(client, as_user, alice, acme_app):
    secret = _create(as_user(alice), permissions=[{"repository": "app", "level": "pull"}]).json()[
        "secret"
    ]
    auth = {"HTTP_AUTHORIZATION": basic_auth("acme+ci", secret)}
    assert client.get("/v2/acme/app/tags/list", **auth).status_code == 200
    refused = client.post("/v2/acme/app/blobs/uploads/", **auth)
    assert refused.status_code in (401, 403)
    assert refused.json()["errors"][0]["code"] in ("DENIED", "UNAUTHORIZED")


def test_push_robot_pushes_and_namespace_wide_push_creates(client, as_user, alice, acme_app):
    owner = as_user(alice)
    one = _create(owner, name="one", permissions=[{"repository": "app", "level": "push"}]).json()
    wide = _create(owner, name="wide", permissions=[{"level": "push"}]).json()
    blob_upload(
        client, "acme/app", b"layer", {"HTTP_AUTHORIZATION": basic_auth(one["name"], one["secret"])}
    )
    refused = client.post(
        "/v2/acme/new/blobs/uploads/", HTTP_AUTHORIZATION=basic_auth(one["name"], one["secret"])
    )
    assert refused.status_code in (401, 403)
    blob_upload(
        client,
        "acme/new",
        b"layer",
        {"HTTP_AUTHORIZATION": basic_auth(wide["name"], wide["secret"])},
    )


def test_last_used_shows_in_the_api(as_user, alice, acme):
    owner = as_user(alice)
    secret = _create(owner).json()["secret"]
    assert owner.get(f"{ORG_ROBOTS}ci/").json()["last_used_at"] is None
    _robot_client("acme+ci", secret).get(f"{API}/repositories/")
    assert owner.get(f"{ORG_ROBOTS}ci/").json()["last_used_at"] is not None


def test_a_robots_refresh_token_dies_with_expiry_disable_and_rotate(client, as_user, alice, acme):
    """docker login keeps a refresh token (identity token): it must not outlive the robot."""
    owner = as_user(alice)
    secret = _create(owner).json()["secret"]
    login = client.get(
        "/auth/token",
        {"service": settings.REGISTRY_SERVICE, "offline_token": "true", "client_id": "docker"},
        HTTP_AUTHORIZATION=basic_auth("acme+ci", secret),
    )
    refresh = login.json()["refresh_token"]

    def refresh_with():
        return client.post("/auth/token", {"grant_type": "refresh_token", "refresh_token": refresh})

    assert refresh_with().status_code == 200

    Robot.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert refresh_with().status_code == 401
    Robot.objects.update(expires_at=None)
    assert refresh_with().status_code == 200
    owner.patch(f"{ORG_ROBOTS}ci/", {"disabled": True}, format="json")
    assert refresh_with().status_code == 401
    owner.patch(f"{ORG_ROBOTS}ci/", {"disabled": False}, format="json")
    assert refresh_with().status_code == 200
    owner.post(f"{ORG_ROBOTS}ci/rotate/")
    assert refresh_with().status_code == 401
