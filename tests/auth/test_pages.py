"""Account, organization and access-token pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from hub.credentials import access_token_lookup
from hub.models import AccessToken, Membership, Namespace
from tests.conftest import PASSWORD


@pytest.fixture
def signed_in(client, alice):
    client.force_login(alice)
    return client


def test_signup_creates_account_and_namespace(client, db):
    response = client.post(
        reverse("accounts:signup"),
        {
            "username": "erin",
            "email": "erin@example.com",
            "password1": "a-long-unusual-phrase",
            "password2": "a-long-unusual-phrase",
        },
    )
    assert response.status_code == 302
    assert Namespace.objects.filter(name="erin", kind="user").exists()
    assert client.get(reverse("accounts:settings")).status_code == 200


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("Erin", "a-long-unusual-phrase"),  # OCI grammar: lowercase only
        ("er in", "a-long-unusual-phrase"),
        ("acme", "a-long-unusual-phrase"),  # taken by an organization
        ("alice", "a-long-unusual-phrase"),  # taken by a user
        ("erin", "password"),  # too common and short
    ],
)
def test_signup_refuses_bad_input(client, acme, username, password):
    response = client.post(
        reverse("accounts:signup"),
        {
            "username": username,
            "email": "e@example.com",
            "password1": password,
            "password2": password,
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors


def test_signup_page_renders(client, db):
    response = client.get(reverse("accounts:signup"))
    assert response.status_code == 200
    assert b'name="username"' in response.content
    # Help text is escaped: the literal "<username>" must show, not vanish as a tag.
    assert b"&lt;username&gt;/&lt;repository&gt;" in response.content


def test_login_and_logout(client, alice):
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("accounts:settings")).status_code == 200
    assert client.post("/accounts/logout/").status_code in (200, 302)
    assert client.get(reverse("accounts:settings")).status_code == 302


def test_login_failure_shows_error_then_throttles(client, alice, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    for _ in range(2):
        response = client.post("/accounts/login/", {"username": "alice", "password": "nope"})
        assert response.status_code == 200
        assert response.context["form"].non_field_errors()
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_throttles_per_address(client, alice, bob, charlie, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 2
    client.post("/accounts/login/", {"username": "bob", "password": "nope"})
    client.post("/accounts/login/", {"username": "charlie", "password": "nope"})
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert "Too many failed sign-ins" in response.content.decode()


def test_password_change_sets_the_new_password(signed_in, alice):
    assert signed_in.get("/accounts/password_change/").status_code == 200
    response = signed_in.post(
        "/accounts/password_change/",
        {
            "old_password": PASSWORD,
            "new_password1": "another-long-phrase",
            "new_password2": "another-long-phrase",
        },
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("another-long-phrase")


def test_pages_need_sign_in(client, acme):
    for url in (
        reverse("accounts:settings"),
        reverse("accounts:tokens"),
        reverse("accounts:org-create"),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_token_created_shown_once_listed_and_revoked(signed_in, alice):
    response = signed_in.post(
        reverse("accounts:tokens"),
        {"label": "laptop", "scopes": "repo:write", "expires_in_days": "30"},
    )
    assert response.status_code == 302
    page = signed_in.get(reverse("accounts:tokens")).content.decode()
    token = AccessToken.objects.get(user=alice)
    secret = page.split('<div class="pull-command"><code>')[1].split("</code>")[0]
    assert secret.startswith("dky_") and access_token_lookup(secret) == token
    assert f'data-copy="{secret}"' in page  # the Copy button beside it
    assert token.scopes == ["repo:write"] and token.expires_at is not None
    again = signed_in.get(reverse("accounts:tokens")).content.decode()
    assert secret not in again and "laptop" in again and token.token_prefix in again
    response = signed_in.post(reverse("accounts:token-revoke", args=[token.pk]))
    assert response.status_code == 302
    assert access_token_lookup(secret) is None
    assert list(signed_in.get(reverse("accounts:tokens")).context["tokens"]) == []


def test_token_form_errors(signed_in, alice):
    response = signed_in.post(reverse("accounts:tokens"), {"label": "", "scopes": "repo:root"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"label", "scopes"}
    assert not AccessToken.objects.exists()


def test_token_scope_is_one_choice(signed_in):
    page = signed_in.get(reverse("accounts:tokens")).content.decode()
    assert page.count('type="radio" name="scopes"') == 4 and 'type="checkbox"' not in page
    assert '<div class="table-scroll">' in page  # the table scrolls, not the page


def test_cannot_revoke_someone_elses_token(client, alice, bob):
    from hub.services.access_tokens import access_token_create

    token, _secret = access_token_create(user=alice, label="ci", scopes=["repo:read"])
    client.force_login(bob)
    assert client.post(reverse("accounts:token-revoke", args=[token.pk])).status_code == 404
    assert client.get(reverse("accounts:token-revoke", args=[token.pk])).status_code == 405


def test_creating_an_organization_makes_the_creator_owner_and_refuses_taken_names(signed_in, alice):
    response = signed_in.post(reverse("accounts:org-create"), {"name": "widgets"})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:org-members", kwargs={"namespace": "widgets"})
    assert Membership.objects.get(organization__name="widgets", user=alice).role == "owner"
    response = signed_in.post(reverse("accounts:org-create"), {"name": "alice"})
    assert response.status_code == 200 and response.context["form"].errors["name"]


def _members_url(name="acme"):
    return reverse("accounts:org-members", kwargs={"namespace": name})


def _member_url(username, name="acme"):
    return reverse("accounts:org-member-change", kwargs={"namespace": name, "username": username})


def test_members_page_for_owner_and_others(client, acme, alice, charlie, dave):
    # Members are visible to members only: anonymous callers are sent to sign in, outsiders 404.
    response = client.get(_members_url())
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    client.force_login(charlie)
    response = client.get(_members_url())
    assert response.status_code == 404 and b"dave" not in response.content
    client.force_login(dave)
    response = client.get(_members_url())
    assert response.status_code == 200 and not response.context["can_manage"]
    assert b"dave" in response.content
    client.force_login(alice)
    response = client.get(_members_url())
    assert response.context["can_manage"] and b"Add a member" in response.content
    assert client.get(_members_url("alice")).status_code == 404
    assert client.get(_members_url("nothing")).status_code == 404


def test_owner_adds_changes_and_removes_members(client, acme, alice, bob):
    client.force_login(alice)
    assert client.post(_members_url(), {"username": "bob", "role": "member"}).status_code == 302
    assert Membership.objects.get(organization=acme, user=bob).role == "member"
    response = client.post(_members_url(), {"username": "ghost", "role": "member"})
    assert response.status_code == 400
    client.post(_member_url("bob"), {"role": "owner"})
    assert Membership.objects.get(organization=acme, user=bob).role == "owner"
    client.post(_member_url("bob"), {"remove": "1"})
    assert not Membership.objects.filter(organization=acme, user=bob).exists()


def test_last_owner_is_kept(client, acme, alice):
    client.force_login(alice)
    response = client.post(_member_url("alice"), {"role": "member"}, follow=True)
    assert "at least one owner" in response.content.decode()
    client.post(_member_url("alice"), {"remove": "1"})
    assert Membership.objects.get(organization=acme, user=alice).role == "owner"


def test_members_cannot_manage_but_may_leave(client, acme, dave, bob):
    client.force_login(dave)
    assert client.post(_members_url(), {"username": "bob", "role": "member"}).status_code == 403
    assert client.post(_member_url("alice"), {"remove": "1"}).status_code == 403
    assert client.post(_member_url("dave"), {"role": "owner"}).status_code == 403
    assert client.post(_member_url("dave"), {"remove": "1"}).status_code == 302
    assert not Membership.objects.filter(organization=acme, user=dave).exists()
    client.force_login(bob)
    assert client.post(_member_url("alice"), {"remove": "1"}).status_code == 403
