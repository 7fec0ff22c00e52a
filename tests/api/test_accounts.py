"""Namespaces, organizations and members, access tokens, users/me, search, throttling."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from hub.models import AccessToken, Membership, Organization
from tests import factories
from tests.api.conftest import API

# users/me -------------------------------------------------------------------------------------


def test_me_with_password_token_and_anonymous(api, as_user, as_token, alice):
    assert as_user(alice).get(f"{API}/users/me/").json()["username"] == "alice"
    assert as_token(alice, "repo:read").get(f"{API}/users/me/").json()["username"] == "alice"
    response = api.get(f"{API}/users/me/")
    assert response.status_code == 401 and "WWW-Authenticate" in response.headers


def test_basic_auth_with_an_access_token_as_password(alice, private_repo):
    from hub.services.access_tokens import access_token_create
    from tests.conftest import basic_auth

    _, secret = access_token_create(user=alice, label="ci", scopes=["repo:read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic_auth("alice", secret))
    body = client.get(f"{API}/repositories/alice/secret/").json()
    assert body["permissions"] == ["pull"]


# Namespaces -----------------------------------------------------------------------------------


def test_namespace_of_a_user_and_of_an_organization(
    api, as_user, alice, public_repo, private_repo, acme
):
    user = api.get(f"{API}/namespaces/alice/").json()
    assert user["kind"] == "user" and user["repository_count"] == 1
    assert as_user(alice).get(f"{API}/namespaces/alice/").json()["repository_count"] == 2
    org = api.get(f"{API}/namespaces/acme/").json()
    assert org["kind"] == "org" and org["name"] == "acme"
    assert api.get(f"{API}/namespaces/nobody/").status_code == 404
    assert api.get(f"{API}/namespaces/Bad%00Name/").status_code == 404


# Organizations --------------------------------------------------------------------------------


def test_list_my_organizations_with_my_role(as_user, alice, dave, charlie, acme):
    assert [
        (o["name"], o["role"]) for o in as_user(alice).get(f"{API}/orgs/").json()["results"]
    ] == [("acme", "owner")]
    assert as_user(dave).get(f"{API}/orgs/").json()["results"][0]["role"] == "member"
    assert as_user(charlie).get(f"{API}/orgs/").json()["count"] == 0


def test_creating_an_organization_needs_a_signed_in_user_and_a_free_valid_name(
    api, as_user, as_token, charlie, alice
):
    payload = {"name": "newco", "display_name": "New Co"}
    assert api.post(f"{API}/orgs/", payload, format="json").status_code == 401
    assert (
        as_token(charlie, "repo:write").post(f"{API}/orgs/", payload, format="json").status_code
        == 403
    )
    response = as_user(charlie).post(f"{API}/orgs/", payload, format="json")
    assert response.status_code == 201 and response.json()["role"] == "owner"
    assert Organization.objects.get(name="newco").display_name == "New Co"
    taken = as_user(charlie).post(f"{API}/orgs/", {"name": "alice"}, format="json")
    assert taken.status_code == 400 and "name" in taken.json()
    bad = as_user(charlie).post(f"{API}/orgs/", {"name": "Bad Name"}, format="json")
    assert bad.status_code == 400


MEMBERS = f"{API}/orgs/acme/members/"


def test_organization_member_is_added_changed_and_removed(as_user, alice, charlie, acme):
    client = as_user(alice)
    listed = client.get(MEMBERS).json()["results"]
    assert [(m["username"], m["role"]) for m in listed] == [("alice", "owner"), ("dave", "member")]
    added = client.post(MEMBERS, {"username": "charlie", "role": "member"}, format="json")
    assert added.status_code == 201
    assert client.post(MEMBERS, {"username": "charlie"}, format="json").status_code == 400
    url = f"{MEMBERS}charlie/"
    assert client.patch(url, {"role": "owner"}, format="json").json()["role"] == "owner"
    assert client.delete(url).status_code == 204
    assert not Membership.objects.filter(user=charlie).exists()


def test_last_owner_cannot_leave_or_be_demoted(as_user, alice, acme):
    client = as_user(alice)
    assert client.patch(f"{MEMBERS}alice/", {"role": "member"}, format="json").status_code == 400
    assert client.delete(f"{MEMBERS}alice/").status_code == 400


# caller → (list members, add member, change role, remove)
MEMBER_MATRIX = {
    "alice": (200, 201, 200, 204),  # owner
    "dave": (200, 403, 403, 403),  # member
    "charlie": (403, 403, 403, 403),  # outsider
    "anonymous": (401, 401, 401, 401),
}


@pytest.mark.parametrize("caller", MEMBER_MATRIX)
def test_member_permission_matrix(as_user, alice, dave, charlie, bob, acme, caller):
    factories.UserFactory(username="erin")
    Membership.objects.create(organization=acme, user=bob, role="member")
    users = {"alice": alice, "dave": dave, "charlie": charlie}
    client = as_user(users[caller]) if caller in users else APIClient()
    listed, added, patched, removed = MEMBER_MATRIX[caller]
    assert client.get(MEMBERS).status_code == listed
    assert client.post(MEMBERS, {"username": "erin"}, format="json").status_code == added
    assert client.patch(f"{MEMBERS}bob/", {"role": "owner"}, format="json").status_code == patched
    assert client.delete(f"{MEMBERS}bob/").status_code == removed


def test_a_member_may_leave(as_user, dave, acme):
    assert as_user(dave).delete(f"{MEMBERS}dave/").status_code == 204


def test_read_only_token_cannot_leave_an_organization(as_token, dave, acme):
    # Leaving is a membership change: it needs the repo:admin scope like any other.
    response = as_token(dave, "repo:read").delete(f"{MEMBERS}dave/")
    assert response.status_code == 403
    assert as_token(dave, "repo:write").delete(f"{MEMBERS}dave/").status_code == 403
    assert Membership.objects.filter(organization=acme, user=dave).exists()
    assert as_token(dave, "repo:admin").delete(f"{MEMBERS}dave/").status_code == 204
    assert not Membership.objects.filter(organization=acme, user=dave).exists()


def test_narrow_token_cannot_manage_members(as_token, alice, charlie, acme):
    client = as_token(alice, "repo:write")
    assert client.get(MEMBERS).status_code == 200
    response = client.post(MEMBERS, {"username": "charlie"}, format="json")
    assert response.status_code == 403
    assert (
        as_token(alice, "repo:admin")
        .post(MEMBERS, {"username": "charlie"}, format="json")
        .status_code
        == 201
    )


def test_members_of_users_and_absent_orgs_are_404(as_user, alice, acme):
    assert as_user(alice).get(f"{API}/orgs/alice/members/").status_code == 404
    assert as_user(alice).get(f"{API}/orgs/nope/members/").status_code == 404
    assert (
        as_user(alice).patch(f"{MEMBERS}nobody/", {"role": "owner"}, format="json").status_code
        == 404
    )


# Access tokens --------------------------------------------------------------------------------

TOKENS = f"{API}/access-tokens/"


def test_access_token_lifecycle(as_user, alice):
    client = as_user(alice)
    created = client.post(TOKENS, {"label": "ci", "scopes": ["repo:read"]}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["token"].startswith("dky_") and body["scopes"] == ["repo:read"]
    assert body["token_prefix"] == body["token"][:12] and body["is_active"]
    bearer = APIClient()
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    assert bearer.get(f"{API}/users/me/").status_code == 200
    listed = client.get(TOKENS).json()["results"]
    assert [t["id"] for t in listed] == [body["id"]] and "token" not in listed[0]
    assert client.get(f"{TOKENS}{body['id']}/").json()["label"] == "ci"
    assert client.delete(f"{TOKENS}{body['id']}/").status_code == 204
    assert bearer.get(f"{API}/users/me/").status_code == 401
    assert client.get(TOKENS).json()["count"] == 0


@pytest.mark.parametrize(
    "payload",
    [
        {"label": "", "scopes": ["repo:read"]},
        {"label": "x", "scopes": []},
        {"label": "x", "scopes": ["root"]},
        {"label": "x", "scopes": ["repo:read"], "expires_at": "2001-01-01T00:00:00Z"},
        {"label": "x", "scopes": "repo:read"},
    ],
)
def test_access_token_validation(as_user, alice, payload):
    assert as_user(alice).post(TOKENS, payload, format="json").status_code == 400


def test_tokens_cannot_manage_tokens_and_others_tokens_are_404(as_user, as_token, alice, charlie):
    token_client = as_token(alice, "repo:admin")
    assert token_client.get(TOKENS).status_code == 200
    payload = {"label": "x", "scopes": ["repo:read"]}
    assert token_client.post(TOKENS, payload, format="json").status_code == 403
    token = AccessToken.objects.get(user=alice)
    assert token_client.delete(f"{TOKENS}{token.uuid}/").status_code == 403
    assert as_user(charlie).delete(f"{TOKENS}{token.uuid}/").status_code == 404
    assert as_user(alice).delete(f"{TOKENS}not-a-uuid/").status_code == 404
    assert APIClient().get(TOKENS).status_code == 401


# Search ---------------------------------------------------------------------------------------


def test_search_ranks_and_hides_private_repositories(api, as_user, alice, bob, private_repo):
    factories.RepositoryFactory(namespace=alice.namespace, name="nginx-tools", star_count=50)
    factories.RepositoryFactory(namespace=bob.namespace, name="nginx", star_count=1)
    factories.RepositoryFactory(namespace=alice.namespace, name="secret-nginx", is_private=True)
    results = [r["full_name"] for r in api.get(f"{API}/search/", {"q": "nginx"}).json()["results"]]
    assert results == ["bob/nginx", "alice/nginx-tools"]
    mine = as_user(alice).get(f"{API}/search/", {"q": "nginx"}).json()["results"]
    assert "alice/secret-nginx" in [r["full_name"] for r in mine]
    assert api.get(f"{API}/search/", {"sort": "nope"}).status_code == 400
    assert api.get(f"{API}/search/", {"q": "x" * 300}).status_code == 400


# Throttling -----------------------------------------------------------------------------------


def test_anonymous_callers_are_throttled(api, monkeypatch, public_repo):
    # DRF reads the rates into the class when it is imported.
    rates = {"anon": "2/minute", "user": "100/minute"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    codes = [api.get(f"{API}/repositories/").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
