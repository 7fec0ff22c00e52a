"""SIGNUP=open|invite|closed: who may create an account, on the pages and the REST API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from hub.models import User
from hub.services.access_tokens import access_token_create
from tests import factories
from tests.api.conftest import API
from tests.conftest import basic_auth

SIGNUP = "/accounts/signup/"
NEW = {
    "username": "newcomer",
    "email": "newcomer@example.com",
    "password1": "a-long-enough-phrase",
    "password2": "a-long-enough-phrase",
}


@pytest.fixture
def admin(db):
    return factories.UserFactory(username="root", is_staff=True, is_superuser=True)


def test_open_sign_up_creates_the_account_and_is_linked(client, db, settings):
    settings.SIGNUP = "open"
    assert SIGNUP.encode() in client.get(reverse("login")).content
    response = client.post(SIGNUP, NEW)
    assert response.status_code == 302
    assert User.objects.filter(username="newcomer").exists()


@pytest.mark.parametrize(("mode", "text"), [("closed", b"administrator"), ("invite", b"invit")])
def test_sign_up_page_refuses_and_creates_nothing_unless_open(client, db, settings, mode, text):
    settings.SIGNUP = mode
    page = client.get(SIGNUP)
    assert page.status_code == 403
    assert b"Sign-up is closed" in page.content and text in page.content
    posted = client.post(SIGNUP, NEW)
    assert posted.status_code == 403
    assert not User.objects.filter(username="newcomer").exists()
    assert User.objects.count() == 0


@pytest.mark.parametrize("mode", ["closed", "invite"])
def test_sign_in_page_and_navigation_hide_the_sign_up_link(client, db, settings, mode):
    settings.SIGNUP = mode
    for page in (reverse("login"), "/"):
        response = client.get(page, follow=True)
        assert SIGNUP.encode() not in response.content, page


def test_invite_only_sign_up_without_a_token_is_refused(client, db, settings):
    settings.SIGNUP = "invite"
    for token in ("", "not-a-token", "0" * 32 + ".x"):
        response = client.post(f"/accounts/invite/{token}/", NEW) if token else client.post(SIGNUP)
        assert response.status_code in (403, 404), token
    assert User.objects.count() == 0


# The REST API: administrators create accounts in every mode; nobody else does.

USERS = f"{API}/users/"
API_NEW = {"username": "newcomer", "email": "newcomer@example.com", "password": "long-phrase-ok"}


def _api(user=None):
    from rest_framework.test import APIClient

    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=basic_auth(user.username))
    return client


@pytest.mark.parametrize("mode", ["open", "invite", "closed"])
def test_only_administrators_create_accounts_through_the_api(settings, alice, admin, mode):
    settings.SIGNUP = mode
    assert _api().post(USERS, API_NEW, format="json").status_code == 401
    refused = _api(alice).post(USERS, API_NEW, format="json")
    assert refused.status_code == 403 and "administrators" in refused.json()["detail"]
    assert not User.objects.filter(username="newcomer").exists()

    created = _api(admin).post(USERS, API_NEW, format="json")

    assert created.status_code == 201, created.content
    assert created.json()["username"] == "newcomer"
    assert "password" not in created.json()
    assert User.objects.get(username="newcomer").check_password("long-phrase-ok")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**API_NEW, "username": "library"}, "username"),  # reserved
        ({**API_NEW, "username": "alice"}, "username"),  # taken
        ({**API_NEW, "username": "Bad Name"}, "username"),
        ({**API_NEW, "email": "ALICE@example.com"}, "email"),  # taken, whatever its case
        ({**API_NEW, "password": "123"}, "password"),  # the password validators
        ({"username": "x"}, "email"),
    ],
)
def test_api_account_creation_applies_the_sign_up_rules(alice, admin, payload, field):
    response = _api(admin).post(USERS, payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert User.objects.count() == 2


def test_a_read_only_token_of_an_administrator_cannot_create_accounts(admin):
    _, secret = access_token_create(user=admin, label="ci", scopes=["repo:read"])
    client = _api()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.post(USERS, API_NEW, format="json").status_code == 403
    assert not User.objects.filter(username="newcomer").exists()


def test_staff_with_the_add_user_permission_may_create_accounts(db):
    from django.contrib.auth.models import Permission

    staff = factories.UserFactory(username="helpdesk", is_staff=True)
    assert _api(staff).post(USERS, API_NEW, format="json").status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="add_user"))
    staff = User.objects.get(pk=staff.pk)  # drop the permission cache
    assert _api(staff).post(USERS, API_NEW, format="json").status_code == 201


def test_administrators_create_accounts_with_manage_py_when_sign_up_is_closed(
    db, settings, monkeypatch, capsys
):
    import io

    from django.core.management import CommandError, call_command

    settings.SIGNUP = "closed"
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-enough-phrase\n"))
    call_command("user_create", "newcomer", "--email", "n@example.com", "--password-stdin")
    assert "Created user newcomer" in capsys.readouterr().out
    user = User.objects.get(username="newcomer")
    assert user.check_password("a-long-enough-phrase") and not user.is_staff

    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    with pytest.raises(CommandError, match="password"):
        call_command("user_create", "second", "--email", "N@example.com", "--password-stdin")
    assert not User.objects.filter(username="second").exists()
