"""Publisher badges in the REST API and /v1/search: read-only fields on repositories and
organizations, badge filters, and the organization PATCH on which only administrators set
badges (the owner's attack included)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from hub.models import Namespace
from tests import factories
from tests.api.conftest import API


@pytest.fixture
def official(db):
    library = Namespace.objects.get(name="library")
    return factories.RepositoryFactory(namespace=library, name="centos")


@pytest.fixture
def verified_repo(acme):
    acme.verified_publisher = True
    acme.save()
    return factories.RepositoryFactory(namespace=acme.namespace, name="agent")


@pytest.fixture
def sponsored_repo(db):
    oss = factories.OrganizationFactory(name="oss", sponsored=True)
    return factories.RepositoryFactory(namespace=oss.namespace, name="tool")


@pytest.fixture
def every_kind(official, verified_repo, sponsored_repo, public_repo):
    return official, verified_repo, sponsored_repo, public_repo


@pytest.fixture
def badge_admin(db):
    """Staff with the change-organization permission: what the admin site needs too."""
    user = factories.UserFactory(username="moderator", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_organization"))
    return user


def badges(item: dict) -> tuple[bool, bool, bool]:
    return item["is_official"], item["is_verified_publisher"], item["is_sponsored"]


def test_repositories_carry_their_badges(api, every_kind):
    results = {r["full_name"]: badges(r) for r in api.get(f"{API}/repositories/").json()["results"]}
    assert results == {
        "library/centos": (True, False, False),
        "acme/agent": (False, True, False),
        "oss/tool": (False, False, True),
        "alice/app": (False, False, False),
    }
    detail = api.get(f"{API}/repositories/library/centos/").json()
    assert badges(detail) == (True, False, False)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"official": "true"}, {"library/centos"}),
        ({"verified": "1"}, {"acme/agent"}),
        ({"sponsored": "true"}, {"oss/tool"}),
        ({"official": "false"}, {"library/centos", "acme/agent", "oss/tool", "alice/app"}),
        ({"official": "true", "verified": "true"}, set()),
        ({"verified": "true", "q": "agent"}, {"acme/agent"}),
        ({"verified": "true", "q": "app"}, set()),
    ],
)
@pytest.mark.parametrize("endpoint", ["repositories", "search"])
def test_list_and_search_filter_by_badge(api, every_kind, endpoint, params, expected):
    response = api.get(f"{API}/{endpoint}/", params)
    assert response.status_code == 200
    assert {r["full_name"] for r in response.json()["results"]} == expected


@pytest.mark.parametrize("endpoint", ["repositories", "search"])
def test_a_bad_badge_filter_is_a_validation_error(api, every_kind, endpoint):
    response = api.get(f"{API}/{endpoint}/", {"official": "maybe"})
    assert response.status_code == 400 and "official" in response.json()


def test_badge_filter_never_shows_private_repositories(api, as_user, verified_repo, acme, charlie):
    factories.RepositoryFactory(namespace=acme.namespace, name="vault", is_private=True)
    for client in (api, as_user(charlie)):
        found = client.get(f"{API}/repositories/", {"verified": "true"}).json()["results"]
        assert [r["full_name"] for r in found] == ["acme/agent"]


def test_organization_and_namespace_carry_badges_and_website(api, acme):
    acme.verified_publisher, acme.website = True, "https://acme.example"
    acme.save()
    body = api.get(f"{API}/orgs/acme/").json()
    assert (body["verified_publisher"], body["sponsored"], body["website"]) == (
        True,
        False,
        "https://acme.example",
    )
    namespace = api.get(f"{API}/namespaces/acme/").json()
    assert (namespace["verified_publisher"], namespace["website"]) == (True, "https://acme.example")
    user = api.get(f"{API}/namespaces/alice/").json()
    assert (user["verified_publisher"], user["sponsored"], user["website"]) == (False, False, "")


def test_unknown_organization_is_404(api, alice):
    assert api.get(f"{API}/orgs/nope/").status_code == 404
    assert api.get(f"{API}/orgs/alice/").status_code == 404  # a user


def test_owner_edits_the_profile(as_user, alice, acme):
    response = as_user(alice).patch(
        f"{API}/orgs/acme/",
        {"display_name": "Acme", "description": "Anvils", "website": "https://acme.example/"},
        format="json",
    )
    assert response.status_code == 200
    acme.refresh_from_db()
    assert (acme.display_name, acme.description, acme.website) == (
        "Acme",
        "Anvils",
        "https://acme.example/",
    )


@pytest.mark.parametrize(
    "payload",
    [
        {"verified_publisher": True},
        {"sponsored": True},
        {"verified_publisher": True, "sponsored": True, "description": "Totally verified"},
    ],
)
def test_owner_cannot_grant_badges_through_the_api(as_user, alice, acme, payload):
    """The attack: an organization owner PATCHes the badge fields of their own organization."""
    response = as_user(alice).patch(f"{API}/orgs/acme/", payload, format="json")
    assert response.status_code == 200
    assert (response.json()["verified_publisher"], response.json()["sponsored"]) == (False, False)
    acme.refresh_from_db()
    assert (acme.verified_publisher, acme.sponsored) == (False, False)
    assert acme.description == payload.get("description", "")


def test_owners_admin_token_cannot_grant_badges_either(as_token, alice, acme):
    client = as_token(alice, "repo:admin")
    response = client.patch(f"{API}/orgs/acme/", {"verified_publisher": True}, format="json")
    assert response.status_code == 200
    acme.refresh_from_db()
    assert not acme.verified_publisher


def test_members_outsiders_and_anonymous_cannot_patch(api, as_user, acme, dave, charlie):
    payload = {"description": "defaced", "verified_publisher": True}
    assert api.patch(f"{API}/orgs/acme/", payload, format="json").status_code == 401
    for user in (dave, charlie):
        assert as_user(user).patch(f"{API}/orgs/acme/", payload, format="json").status_code == 403
    acme.refresh_from_db()
    assert (acme.description, acme.verified_publisher) == ("", False)


def test_administrator_grants_and_withdraws_badges(as_user, badge_admin, acme):
    client = as_user(badge_admin)
    payload = {"verified_publisher": True, "sponsored": True}
    response = client.patch(f"{API}/orgs/acme/", payload, format="json")
    assert response.status_code == 200 and response.json()["verified_publisher"] is True
    acme.refresh_from_db()
    assert acme.verified_publisher and acme.sponsored
    client.patch(f"{API}/orgs/acme/", {"sponsored": False}, format="json")
    acme.refresh_from_db()
    assert acme.verified_publisher and not acme.sponsored


def test_administrator_who_is_not_an_owner_cannot_edit_the_profile(as_user, badge_admin, acme):
    response = as_user(badge_admin).patch(
        f"{API}/orgs/acme/", {"description": "not yours"}, format="json"
    )
    assert response.status_code == 403
    acme.refresh_from_db()
    assert acme.description == ""


def test_staff_without_the_permission_or_with_a_read_token_cannot_grant(
    as_user, as_token, badge_admin, acme
):
    staff_only = factories.UserFactory(username="helpdesk", is_staff=True)
    for client in (as_user(staff_only), as_token(badge_admin, "repo:read")):
        response = client.patch(f"{API}/orgs/acme/", {"verified_publisher": True}, format="json")
        assert response.status_code == 403
    acme.refresh_from_db()
    assert not acme.verified_publisher


@pytest.mark.parametrize("website", ["javascript:alert(1)", "ftp://acme.example/", "nope"])
def test_website_must_be_http_or_https(as_user, alice, acme, website):
    response = as_user(alice).patch(f"{API}/orgs/acme/", {"website": website}, format="json")
    assert response.status_code == 400 and "website" in response.json()
    acme.refresh_from_db()
    assert acme.website == ""


def test_v1_search_marks_library_repositories_official(client, every_kind):
    results = {r["name"]: r for r in client.get("/v1/search?q=o&n=100").json()["results"]}
    official = [name for name, r in results.items() if r["is_official"]]
    assert len(official) == 1 and official[0].endswith("centos")
    assert results["acme/agent"]["is_official"] is False
    # centos and tool both contain "o" in their names: the official image ranks first.
    assert list(results)[:2] == [official[0], "oss/tool"]


def test_creating_an_organization_cannot_grant_badges(as_user, client, charlie):
    """The same attack at creation time: the API and the UI form take no badge."""
    payload = {"name": "selfmade", "verified_publisher": True, "sponsored": True}
    assert as_user(charlie).post(f"{API}/orgs/", payload, format="json").status_code == 201
    client.force_login(charlie)
    form = {"name": "selfmade-ui", "verified_publisher": "on", "sponsored": "on"}
    assert client.post("/orgs/new/", form).status_code == 302
    for name in ("selfmade", "selfmade-ui"):
        body = as_user(charlie).get(f"{API}/orgs/{name}/").json()
        assert (body["verified_publisher"], body["sponsored"]) == (False, False)


def test_outsider_is_refused_before_their_input_is_validated(as_user, acme, charlie):
    response = as_user(charlie).patch(f"{API}/orgs/acme/", {"website": "nope"}, format="json")
    assert response.status_code == 403


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "null", "{bad json"])
def test_malformed_bodies_are_client_errors(as_user, alice, badge_admin, acme, body):
    for user in (alice, badge_admin):
        response = as_user(user).patch(f"{API}/orgs/acme/", body, content_type="application/json")
        assert response.status_code == 400
