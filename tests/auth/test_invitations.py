"""Invitations: owners invite by e-mail (a real SMTP server on loopback) or one-time link; the
link creates an account in the organization once, never after expiry or withdrawal."""

from __future__ import annotations

import threading
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from hub.models import Invitation, Membership, User
from hub.services.access_tokens import access_token_create
from hub.services.invitations import (
    InvitationGone,
    invitation_create,
    invitation_from_token,
    invitation_signup,
    invitation_url,
)
from tests import factories
from tests.api.conftest import API
from tests.conftest import basic_auth

MEMBERS = "/orgs/acme/members/"
INVITE = "/orgs/acme/invitations/"
NEW = {
    "username": "erin",
    "email": "erin@example.org",
    "password1": "a-long-enough-phrase",
    "password2": "a-long-enough-phrase",
}


def _path(link: str) -> str:
    return urlsplit(link).path


def _invite(organization, *, by, email="", role="member") -> str:
    _, token = invitation_create(created_by=by, organization=organization, email=email, role=role)
    return f"/accounts/invite/{token}/"


def test_invitation_by_email_arrives_and_its_link_makes_an_account_in_the_organization(
    client, alice, acme, smtp, settings
):
    settings.SIGNUP = "invite"
    settings.SITE_URL = "https://hub.example.com"
    client.force_login(alice)
    assert b"Invite someone" in client.get(MEMBERS).content

    sent = client.post(INVITE, {"email": "erin@example.org", "role": "owner", "send": "1"})

    assert sent.status_code == 302
    received = smtp.only()
    assert received.rcpt_tos == ["erin@example.org"]
    assert "acme" in received.message["Subject"]
    link = received.link()
    assert link.startswith("https://hub.example.com/accounts/invite/")
    client.logout()
    page = client.get(_path(link))
    assert page.status_code == 200
    assert page.context["form"]["email"].value() == "erin@example.org"  # prefilled

    created = client.post(_path(link), NEW)

    assert created.status_code == 302 and created["Location"] == MEMBERS
    erin = User.objects.get(username="erin")
    assert Membership.objects.get(organization=acme, user=erin).role == "owner"
    assert client.get(MEMBERS).status_code == 200  # signed in as erin, a member now
    invitation = Invitation.objects.get()
    assert invitation.used_by == erin and invitation.status == "used"
    client.logout()
    again = client.post(_path(link), {**NEW, "username": "mallory", "email": "m@example.org"})
    assert again.status_code == 410 and b"used already" in again.content
    assert not User.objects.filter(username="mallory").exists()


def test_a_one_time_link_is_shown_once_and_only_its_hash_is_stored(client, alice, acme, settings):
    settings.SITE_URL = "http://registry.lan:5000"
    client.force_login(alice)

    response = client.post(INVITE, {"email": "", "role": "member", "link": "1"}, follow=True)

    link = response.context["new_invitation"]
    assert link.startswith("http://registry.lan:5000/accounts/invite/")
    assert link.encode() in response.content
    assert mail.outbox == []
    assert link.encode() not in client.get(MEMBERS).content  # shown once
    invitation = Invitation.objects.get()
    secret = link.rstrip("/").rsplit(".", 1)[1]
    stored = [str(value) for value in Invitation.objects.values().get().values()]
    assert all(secret not in value for value in stored)
    assert invitation.token_hash != secret and len(invitation.token_hash) == 64


def test_sending_needs_an_address(client, alice, acme):
    client.force_login(alice)
    response = client.post(INVITE, {"email": "", "role": "member", "send": "1"})
    assert response.status_code == 400 and b"Give an address" in response.content
    assert not Invitation.objects.exists() and mail.outbox == []


def test_only_owners_invite_and_see_invitations(client, dave, charlie, acme):
    client.force_login(dave)  # a member
    assert client.post(INVITE, {"role": "member", "link": "1"}).status_code == 403
    assert b"Invite someone" not in client.get(MEMBERS).content
    client.force_login(charlie)  # an outsider: the organization's pages hide it
    assert client.post(INVITE, {"role": "member", "link": "1"}).status_code == 404
    assert not Invitation.objects.exists()


def test_owners_list_and_withdraw_pending_invitations(client, alice, acme):
    link = _invite(acme, by=alice, email="frank@example.org")
    client.force_login(alice)
    page = client.get(MEMBERS)
    assert b"frank@example.org" in page.content
    invitation = Invitation.objects.get()

    client.post(f"/orgs/acme/invitations/{invitation.uuid}/revoke/")

    assert b"frank@example.org" not in client.get(MEMBERS).content
    client.logout()
    response = client.get(link)
    assert response.status_code == 410 and b"withdrawn" in response.content


def test_an_expired_link_shows_a_clear_page_and_creates_nothing(client, alice, acme):
    link = _invite(acme, by=alice)
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(link).status_code == 410
    response = client.post(link, NEW)
    assert response.status_code == 410 and b"expired" in response.content
    assert not User.objects.filter(username="erin").exists()


def test_expiry_follows_the_setting(alice, acme, settings):
    settings.INVITATION_TTL_SECONDS = 3600
    _invite(acme, by=alice)
    left = Invitation.objects.get().expires_at - timezone.now()
    assert timedelta(minutes=59) < left <= timedelta(hours=1)


def test_wrong_or_malformed_tokens_are_not_found(client, alice, acme):
    link = _invite(acme, by=alice)
    public_id, secret = link.split("/")[3].split(".")
    for token in (f"{public_id}.{secret[:-1]}x", f"{public_id}.", public_id, "zz.zz", "%00"):
        assert client.get(f"/accounts/invite/{token}/").status_code == 404, token
    assert invitation_from_token(f"{public_id}.wrong") is None


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"username": "security"}, b"reserved"),
        ({"username": "alice"}, b"already"),
        ({"username": "acme"}, b"taken"),
        ({"email": "ALICE@example.com"}, b"already exists"),
        ({"password1": "123", "password2": "123"}, b"too short"),
        ({"password2": "something-else"}, b"match"),
    ],
)
def test_the_invitation_form_applies_the_sign_up_rules(client, alice, acme, change, error):
    link = _invite(acme, by=alice)
    response = client.post(link, {**NEW, **change})
    assert response.status_code == 400 and error in response.content, response.content[-2000:]
    assert Invitation.objects.get().status == "pending"
    assert not User.objects.filter(username="erin").exists()


def test_a_signed_in_user_accepts_an_organization_invitation_into_their_account(
    client, alice, charlie, acme
):
    link = _invite(acme, by=alice, role="member")
    client.force_login(charlie)
    page = client.get(link)
    assert page.status_code == 200 and b"Accept and join" in page.content
    assert not Membership.objects.filter(user=charlie).exists()

    response = client.post(link)

    assert response.status_code == 302
    assert Membership.objects.get(organization=acme, user=charlie).role == "member"
    assert client.post(link).status_code == 410


def test_a_signed_out_invitee_is_offered_to_sign_in_and_accept(client, alice, acme):
    link = _invite(acme, by=alice)
    page = client.get(link)
    assert f"{reverse('login')}?next={link}".encode() in page.content


def test_a_site_wide_invitation_makes_an_account_when_sign_up_is_invite_only(client, db, settings):
    settings.SIGNUP = "invite"
    root = factories.UserFactory(username="root", is_superuser=True, is_staff=True)
    link = _invite(None, by=root)
    response = client.post(link, NEW)
    assert response.status_code == 302
    erin = User.objects.get(username="erin")
    assert not Membership.objects.filter(user=erin).exists()
    # Signed in (as erin now), a site-wide link has nothing to give an existing account.
    other = _invite(None, by=root)
    assert client.get(other).status_code == 409


def test_administrators_invite_from_the_admin_site(client, db, smtp, settings):
    settings.SITE_URL = "https://hub.example.com"
    root = factories.UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(root)
    assert client.get("/admin/hub/invitation/add/").status_code == 200

    response = client.post(
        "/admin/hub/invitation/add/",
        {"organization": "", "email": "grace@example.org", "role": "member", "send_email": "on"},
        follow=True,
    )

    assert response.status_code == 200
    invitation = Invitation.objects.get()
    assert invitation.organization is None and invitation.created_by == root
    shown = [str(m) for m in response.context["messages"]]
    assert any("https://hub.example.com/accounts/invite/" in m for m in shown), shown
    assert smtp.only().rcpt_tos == ["grace@example.org"]
    owner = client.post(
        "/admin/hub/invitation/add/", {"organization": "", "email": "", "role": "owner"}
    )
    assert owner.status_code == 200 and Invitation.objects.count() == 1


def test_with_sign_up_closed_an_owner_s_invitation_only_brings_existing_accounts_in(
    client, alice, charlie, acme, settings
):
    settings.SIGNUP = "closed"
    link = _invite(acme, by=alice)
    page = client.get(link)
    assert page.status_code == 403 and b"Sign in to accept" in page.content
    assert client.post(link, NEW).status_code == 403
    assert not User.objects.filter(username="erin").exists()
    client.force_login(charlie)
    assert client.post(link).status_code == 302
    assert Membership.objects.filter(organization=acme, user=charlie).exists()


def test_with_sign_up_closed_an_administrator_s_invitation_creates_the_account(
    client, acme, settings
):
    settings.SIGNUP = "closed"
    root = factories.UserFactory(username="root", is_superuser=True, is_staff=True)
    response = client.post(_invite(acme, by=root, role="owner"), NEW)
    assert response.status_code == 302
    assert Membership.objects.get(organization=acme, user__username="erin").role == "owner"


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_uses_of_one_link_make_one_account(alice, acme):
    if connection.vendor == "sqlite":
        pytest.skip("needs a database that takes concurrent writers")
    invitation, token = invitation_create(created_by=alice, organization=acme)
    barrier = threading.Barrier(2)
    outcomes: list = [None, None]

    def use(index: int) -> None:
        try:
            found = invitation_from_token(token)
            barrier.wait(timeout=10)
            invitation_signup(
                invitation=found,
                username=f"racer{index}",
                email=f"racer{index}@example.org",
                password="a-long-enough-phrase",
            )
            outcomes[index] = "created"
        except InvitationGone:
            outcomes[index] = "gone"
        finally:
            connection.close()

    threads = [threading.Thread(target=use, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["created", "gone"]
    assert User.objects.filter(username__startswith="racer").count() == 1
    racers = Membership.objects.filter(organization=acme, user__username__startswith="racer")
    assert racers.count() == 1
    assert invitation_url(token).endswith(f"/accounts/invite/{token}/")


# REST API


def _api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic_auth(user.username))
    return client


INVITATIONS = f"{API}/orgs/acme/invitations/"


def test_owners_create_list_and_withdraw_invitations_through_the_api(alice, acme, smtp):
    api = _api(alice)
    made = api.post(INVITATIONS, {"role": "member"}, format="json")
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["status"] == "pending" and body["sent"] is False and body["email"] == ""
    assert "/accounts/invite/" in body["url"]
    mailed = api.post(INVITATIONS, {"email": "h@example.org", "send": True}, format="json")
    assert mailed.status_code == 201 and mailed.json()["sent"] is True
    assert smtp.only().rcpt_tos == ["h@example.org"]
    assert smtp.only().link() == mailed.json()["url"]

    listed = api.get(INVITATIONS).json()["results"]
    assert {item["id"] for item in listed} == {body["id"], mailed.json()["id"]}
    assert all("url" not in item for item in listed)

    assert api.delete(f"{INVITATIONS}{body['id']}/").status_code == 204
    assert [item["id"] for item in api.get(INVITATIONS).json()["results"]] == [mailed.json()["id"]]
    assert api.delete(f"{INVITATIONS}not-a-uuid/").status_code == 404


@pytest.mark.parametrize(
    "payload",
    [{"send": True}, {"email": "not-an-address"}, {"role": "admin"}],
)
def test_api_invitation_validation(alice, acme, payload):
    response = _api(alice).post(INVITATIONS, payload, format="json")
    assert response.status_code == 400
    assert not Invitation.objects.exists()


def test_api_invitations_are_for_owners_with_a_full_token(alice, dave, charlie, acme):
    assert _api(dave).get(INVITATIONS).status_code == 403
    assert _api(dave).post(INVITATIONS, {}, format="json").status_code == 403
    assert _api(charlie).post(INVITATIONS, {}, format="json").status_code == 403
    assert APIClient().get(INVITATIONS).status_code == 401
    _, secret = access_token_create(user=alice, label="ci", scopes=["repo:write"])
    narrow = APIClient()
    narrow.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert narrow.post(INVITATIONS, {}, format="json").status_code == 403
    assert not Invitation.objects.exists()


def test_invitation_endpoints_are_in_the_schema(db):
    schema = APIClient().get(f"{API}/schema/", {"format": "json"}).json()
    assert "/api/v1/orgs/{name}/invitations/" in schema["paths"]
    assert "/api/v1/orgs/{name}/invitations/{invitation_id}/" in schema["paths"]
    assert "/api/v1/users/" in schema["paths"]


def test_administrators_revoke_invitations_from_the_admin_site(client, alice, acme):
    root = factories.UserFactory(username="root", is_superuser=True, is_staff=True)
    link = _invite(acme, by=alice, email="kim@example.org")
    invitation = Invitation.objects.get()
    client.force_login(root)
    listing = client.get("/admin/hub/invitation/")
    assert listing.status_code == 200 and b"kim@example.org" in listing.content

    client.post(
        "/admin/hub/invitation/",
        {"action": "revoke", "_selected_action": [invitation.pk]},
    )

    invitation.refresh_from_db()
    assert invitation.status == "revoked"
    client.logout()
    assert client.get(link).status_code == 410


def test_when_the_mail_server_refuses_the_owner_gets_the_link_instead(
    client, alice, acme, smtp_down
):
    client.force_login(alice)
    page = client.post(
        INVITE, {"email": "j@example.org", "role": "member", "send": "1"}, follow=True
    )
    assert page.status_code == 200
    assert b"could not be sent" in page.content
    link = page.context["new_invitation"]
    assert invitation_from_token(link.rstrip("/").rsplit("/", 1)[1]).email == "j@example.org"
    api = _api(alice).post(INVITATIONS, {"email": "j@example.org", "send": True}, format="json")
    assert api.status_code == 201 and api.json()["sent"] is False
