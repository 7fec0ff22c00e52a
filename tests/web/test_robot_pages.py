"""Robot account pages: the owner creates, edits, rotates, disables and deletes robots."""

from __future__ import annotations

import pytest

from hub.credentials import credentials_check
from hub.models import Robot
from tests import factories


@pytest.fixture
def owner(client, alice, acme):
    client.force_login(alice)
    return client


def _check(secret):
    return credentials_check(username="acme+ci", secret=secret, client_ip="10.0.0.1")


def test_create_shows_the_secret_once_with_the_login_command(owner, acme):
    app = factories.RepositoryFactory(namespace=acme.namespace, name="app")
    page = owner.post(
        "/orgs/acme/robots/",
        {"name": "ci", "description": "builds", "expires_in_days": "", f"grant_{app.pk}": "push"},
    )
    assert page.status_code == 302
    shown = owner.get(page["Location"])
    robot = Robot.objects.get()
    secret = shown.context["secret"]
    assert secret and _check(secret).user == robot.user
    body = shown.content.decode()
    assert secret in body and "docker login testserver -u 'acme+ci'" in body
    again = owner.get(page["Location"]).content.decode()
    assert secret not in again
    assert "acme+ci" in owner.get("/orgs/acme/robots/").content.decode()


def test_rotate_disable_delete(owner, acme):
    owner.post("/orgs/acme/robots/", {"name": "ci", "expires_in_days": ""})
    first = owner.get("/orgs/acme/robots/ci/").context["secret"]
    owner.post("/orgs/acme/robots/ci/rotate/")
    second = owner.get("/orgs/acme/robots/ci/").context["secret"]
    assert second != first and _check(first) is None and _check(second) is not None
    saved = owner.post("/orgs/acme/robots/ci/", {"expires_in_days": "keep", "disabled": "on"})
    assert saved.status_code == 302
    assert _check(second) is None
    owner.post("/orgs/acme/robots/ci/delete/")
    assert not Robot.objects.exists()


def test_bad_name_is_a_form_error(owner, acme):
    page = owner.post("/orgs/acme/robots/", {"name": "Not Valid", "expires_in_days": ""})
    assert page.status_code == 400 and page.context["form"].errors


def test_members_and_outsiders_are_refused(client, acme, dave, charlie):
    for user in (dave, charlie):
        client.force_login(user)
        assert client.get("/orgs/acme/robots/").status_code == 403
        assert client.post("/orgs/acme/robots/", {"name": "x"}).status_code == 403


def test_user_robots_in_settings(client, alice, public_repo):
    client.force_login(alice)
    page = client.post(
        "/settings/robots/",
        {"name": "ci", "expires_in_days": "", f"grant_{public_repo.pk}": "pull"},
    )
    assert page.status_code == 302
    assert Robot.objects.get().user.username == "alice+ci"
    assert "alice+ci" in client.get("/settings/robots/").content.decode()
