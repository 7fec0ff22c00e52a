"""OpenID Connect sign-in against a real provider: JIT accounts linked by (issuer, sub),
collisions, the group map granting and removing memberships, deactivation, tokens for docker,
LOCAL_SIGN_IN, logout at the provider, and a provider that cannot be reached."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model

from hub.models import DirectoryGrant, Membership, OIDCIdentity, Team
from hub.services.access_tokens import access_token_create
from hub.services.organizations import organization_create
from tests import factories
from tests.conftest import basic_auth
from tests.oidc.conftest import oidc_sign_in

pytestmark = pytest.mark.django_db

PASSWORD = "idp-password-1"


def _user(idp, base: str, **kwargs) -> tuple[str, str]:
    name = f"{base}{idp.prefix}"
    return name, idp.user_add(name, PASSWORD, email=f"{name}@corp.test", **kwargs)


def _messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


def test_sign_in_page_shows_provider_button_only_when_configured(client, idp, settings):
    page = client.get("/accounts/login/").content.decode()
    assert "Sign in with Test IdP" in page
    settings.OIDC_ENABLED = False
    assert "Sign in with" not in client.get("/accounts/login/").content.decode()
    assert client.get("/oidc/authenticate/").status_code == 404
    assert client.get("/oidc/callback/?code=x&state=y").status_code == 404


def test_authorization_request_uses_pkce_s256_and_configured_scopes(client, idp):
    start = client.get("/oidc/authenticate/")
    query = parse_qs(urlsplit(start["Location"]).query)
    assert start["Location"].startswith(idp.issuer + "/authorize/")
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert query["scope"] == ["openid email profile"]
    assert query["redirect_uri"] == ["http://testserver/oidc/callback/"]


def test_first_sign_in_provisions_linked_account(client, idp):
    name, sub = _user(idp, "olga")
    response = oidc_sign_in(client, idp, name, PASSWORD)
    assert response.status_code == 302, response.content
    user = get_user_model().objects.get(username=name)
    assert user.email == f"{name}@corp.test"
    assert not user.has_usable_password()
    identity = OIDCIdentity.objects.get(user=user)
    assert (identity.issuer, identity.subject) == (idp.issuer, sub)
    assert client.get("/settings/").status_code == 200  # signed in to the portal


def test_rename_at_provider_keeps_the_same_account(client, idp):
    name, _ = _user(idp, "ren")
    oidc_sign_in(client, idp, name, PASSWORD)
    user = get_user_model().objects.get(username=name)
    idp.rename(name, f"new{name}")
    client.logout()
    assert oidc_sign_in(client, idp, f"new{name}", PASSWORD).status_code == 302
    assert get_user_model().objects.filter(username__endswith=name).count() == 1
    assert client.get("/settings/").wsgi_request.user.pk == user.pk


def test_collision_with_local_account_is_refused_with_message(client, idp):
    name, _ = _user(idp, "loc")
    local = factories.UserFactory(username=name)
    response = oidc_sign_in(client, idp, name, PASSWORD, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")
    assert f"An account named {name} already exists" in response.content.decode()
    assert not OIDCIdentity.objects.filter(user=local).exists()
    assert not response.wsgi_request.user.is_authenticated


def test_administrator_links_a_colliding_local_account(client, idp):
    name, sub = _user(idp, "link")
    local = factories.UserFactory(username=name)
    OIDCIdentity.objects.create(user=local, issuer=idp.issuer, subject=sub)  # the admin site's
    assert oidc_sign_in(client, idp, name, PASSWORD).status_code == 302
    assert client.get("/settings/").wsgi_request.user.pk == local.pk


def test_collision_with_organization_or_reserved_name_is_refused(client, idp, alice):
    name, _ = _user(idp, "orgx")
    organization_create(owner=alice, name=name)
    response = oidc_sign_in(client, idp, name, PASSWORD, follow=True)
    assert "cannot be used here" in response.content.decode()
    assert not get_user_model().objects.filter(username=name).exists()
    idp.user_add(f"support{idp.prefix}x", PASSWORD)  # unique at the IdP...
    idp.rename(f"support{idp.prefix}x", "support")  # ...then the reserved name itself
    response = oidc_sign_in(client.__class__(), idp, "support", PASSWORD, follow=True)
    assert "cannot be used here" in response.content.decode()
    assert not get_user_model().objects.filter(username="support").exists()
    idp.rename("support", f"gone{idp.prefix}")  # the next run may create `support` again


def test_group_claim_grants_org_and_team_and_leaving_removes_only_the_grants(client, idp, alice):
    granted = organization_create(owner=alice, name=f"grant{idp.prefix}")
    team = Team.objects.create(organization=granted, name="builders")
    by_hand = organization_create(owner=alice, name=f"hand{idp.prefix}")
    idp.configure(
        OIDC_GROUP_MAP=json.dumps(
            {
                f"devs-{idp.prefix}": f"org:{granted.name}",
                f"builders-{idp.prefix}": f"org:{granted.name}/team:builders",
                f"ops-{idp.prefix}": "admin",
                f"hand-{idp.prefix}": f"org:{by_hand.name}",
            }
        )
    )
    name, _ = _user(idp, "gil", groups=[f"devs-{idp.prefix}", f"builders-{idp.prefix}",
                                        f"ops-{idp.prefix}", f"hand-{idp.prefix}"])  # fmt: skip
    oidc_sign_in(client, idp, name, PASSWORD)
    user = get_user_model().objects.get(username=name)
    assert Membership.objects.filter(organization=granted, user=user).exists()
    assert team.members.filter(pk=user.pk).exists()
    assert user.is_staff and user.is_superuser
    # A membership of `by_hand` made by an owner before the group granted it: no grant row.
    Membership.objects.filter(organization=by_hand, user=user).delete()
    DirectoryGrant.objects.filter(user=user, organization=by_hand).delete()
    Membership.objects.create(organization=by_hand, user=user)

    idp.groups_set(name, [f"devs-{idp.prefix}"])  # left builders, ops and hand
    client.logout()
    oidc_sign_in(client, idp, name, PASSWORD)
    user.refresh_from_db()
    assert not user.is_staff and not user.is_superuser
    assert not team.members.filter(pk=user.pk).exists()
    assert Membership.objects.filter(organization=granted, user=user).exists()
    assert Membership.objects.filter(organization=by_hand, user=user).exists()  # by hand: kept

    idp.groups_set(name, [])
    client.logout()
    oidc_sign_in(client, idp, name, PASSWORD)
    assert not Membership.objects.filter(organization=granted, user=user).exists()
    assert Membership.objects.filter(organization=by_hand, user=user).exists()
    assert not DirectoryGrant.objects.filter(user=user).exists()


def test_password_never_works_for_docker_access_token_does_until_deactivated(client, idp):
    name, _ = _user(idp, "tok")
    oidc_sign_in(client, idp, name, PASSWORD)
    user = get_user_model().objects.get(username=name)
    assert client.get("/v2/", HTTP_AUTHORIZATION=basic_auth(name, PASSWORD)).status_code == 401
    _, secret = access_token_create(user=user, label="laptop", scopes=["repo:write"])
    client.logout()  # the token outlives the portal (and IdP) session
    token_auth = basic_auth(name, secret)
    assert client.get("/v2/", HTTP_AUTHORIZATION=token_auth).status_code == 200

    portal = client.__class__()
    oidc_sign_in(portal, idp, name, PASSWORD)
    assert portal.get("/settings/").status_code == 200
    user.is_active = False  # an administrator deactivates the account
    user.save(update_fields=["is_active"])
    assert portal.get("/settings/").status_code == 302  # its portal session ends too
    assert client.get("/v2/", HTTP_AUTHORIZATION=token_auth).status_code == 401
    response = oidc_sign_in(client, idp, name, PASSWORD, follow=True)
    assert "This account is deactivated." in response.content.decode()
    assert not response.wsgi_request.user.is_authenticated


def test_local_sign_in_false_keeps_oidc_sign_in(client, idp, alice):
    idp.configure(LOCAL_SIGN_IN="false")
    assert (
        client.post("/accounts/login/", {"username": "alice", "password": "x"}).status_code == 200
    )
    name, _ = _user(idp, "nolocal")
    assert oidc_sign_in(client, idp, name, PASSWORD).status_code == 302
    assert client.get("/settings/").status_code == 200


def test_sign_out_ends_the_provider_session_too(client, idp):
    name, _ = _user(idp, "bye")
    oidc_sign_in(client, idp, name, PASSWORD)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == idp.issuer + "/logout/"
    query = parse_qs(location.query)
    assert query["post_logout_redirect_uri"] == ["http://testserver/"]
    assert query["id_token_hint"]
    assert client.get("/settings/").status_code == 302  # signed out here


def test_local_sign_out_unchanged(client, alice):
    client.force_login(alice, backend="hub.local_backend.LocalBackend")
    response = client.post("/accounts/logout/")
    assert (response.status_code, response["Location"]) == (302, "/")


def test_unreachable_provider_is_a_message_not_a_500(client, idp, monkeypatch):
    from tests.e2e.server import free_port

    idp.configure(OIDC_ISSUER=f"http://127.0.0.1:{free_port()}/o")
    response = client.get("/oidc/authenticate/", follow=True)
    assert response.status_code == 200
    assert "could not be reached" in response.content.decode()


def test_forged_callback_state_is_refused(client, idp):
    client.get("/oidc/authenticate/")
    response = client.get("/oidc/callback/?code=forged&state=not-ours")
    assert response.status_code == 400
    assert not response.wsgi_request.user.is_authenticated


def test_bad_group_map_names_variable(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from config.oidc import oidc_settings

    monkeypatch.setenv("OIDC_ISSUER", "https://idp.example.test/realms/x")
    monkeypatch.setenv("OIDC_CLIENT_ID", "dockyard")
    monkeypatch.setenv("OIDC_GROUP_MAP", json.dumps({"devs": "team:x"}))
    with pytest.raises(ImproperlyConfigured, match="OIDC_GROUP_MAP"):
        oidc_settings([])


def test_sync_directory_without_ldap_says_oidc_syncs_at_sign_in(idp):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="OpenID Connect accounts sync at each sign-in"):
        call_command("sync_directory")


def test_unverified_email_claim_is_not_taken(idp, rf):
    from hub.oidc_backend import OIDCBackend

    user = factories.UserFactory(username=f"unv{idp.prefix}", email="")
    backend = OIDCBackend()
    backend.request = rf.get("/oidc/callback/")
    claims = {"sub": "1", "email": "someone-else@corp.test", "email_verified": False}
    backend.update_user(user, claims)
    user.refresh_from_db()
    assert user.email == ""
    backend.update_user(user, {**claims, "email_verified": True})
    user.refresh_from_db()
    assert user.email == "someone-else@corp.test"
