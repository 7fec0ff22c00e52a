"""/api/v1/repositories/: list, filter, search, order, create, get, patch, delete."""

from __future__ import annotations

import pytest

from hub.models import Repository
from tests import factories
from tests.api.conftest import API

SECRET = f"{API}/repositories/alice/secret/"


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["full_name"] for item in response.json()["results"]]


def test_list_shows_public_repositories_to_anonymous_callers(api, public_repo, private_repo):
    body = api.get(f"{API}/repositories/").json()
    assert body["count"] == 1 and body["next"] is None and body["previous"] is None
    item = body["results"][0]
    assert item["full_name"] == "alice/app"
    assert item["pull_command"] == "docker pull testserver/alice/app"
    assert {"star_count", "pull_count", "comment_count", "is_private", "last_updated"} <= set(item)


def test_list_includes_private_repositories_the_caller_may_read(
    as_user, bob, public_repo, private_repo
):
    assert sorted(names(as_user(bob).get(f"{API}/repositories/"))) == ["alice/app", "alice/secret"]


def test_list_filters_by_namespace_and_query(api, alice, bob, public_repo):
    factories.RepositoryFactory(namespace=bob.namespace, name="tool", description="a hammer")
    assert names(api.get(f"{API}/repositories/", {"namespace": "bob"})) == ["bob/tool"]
    assert names(api.get(f"{API}/repositories/", {"q": "hammer"})) == ["bob/tool"]
    assert names(api.get(f"{API}/repositories/", {"namespace": "nobody"})) == []


@pytest.mark.parametrize(
    ("ordering", "first"), [("stars", "alice/starry"), ("pulls", "alice/pulled")]
)
def test_list_orders_by_stars_and_pulls(api, alice, ordering, first):
    factories.RepositoryFactory(namespace=alice.namespace, name="starry", star_count=9)
    factories.RepositoryFactory(namespace=alice.namespace, name="pulled", pull_count=99)
    assert names(api.get(f"{API}/repositories/", {"ordering": ordering}))[0] == first


def test_list_counts_comments_and_paginates(api, alice, public_repo):
    factories.CommentFactory(repository=public_repo, author=alice)
    factories.CommentFactory(repository=public_repo, author=alice)
    for n in range(3):
        factories.RepositoryFactory(namespace=alice.namespace, name=f"more{n}")
    body = api.get(f"{API}/repositories/", {"page_size": 2, "ordering": "updated"}).json()
    assert body["count"] == 4 and len(body["results"]) == 2 and "page=2" in body["next"]
    everything = api.get(f"{API}/repositories/", {"page_size": 1000}).json()["results"]
    assert {r["full_name"]: r["comment_count"] for r in everything}["alice/app"] == 2
    assert {r["full_name"]: r["collaborator_count"] for r in everything}["alice/app"] == 0


@pytest.mark.parametrize(
    "params",
    [{"ordering": "bogus"}, {"page": "abc"}, {"page": "99999999999999999999"}, {"q": "a\x00b"}],
)
def test_list_rejects_bad_parameters_without_a_server_error(api, public_repo, params):
    assert api.get(f"{API}/repositories/", params).status_code in (400, 404)


def test_create_in_own_namespace(as_user, alice):
    response = as_user(alice).post(
        f"{API}/repositories/",
        {"namespace": "alice", "name": "new", "description": "d", "is_private": True},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["full_name"] == "alice/new" and response.json()["is_private"]
    assert Repository.objects.filter(namespace__name="alice", name="new").exists()


def test_create_in_organization_as_member(as_user, dave, acme):
    response = as_user(dave).post(
        f"{API}/repositories/", {"namespace": "acme", "name": "svc"}, format="json"
    )
    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"namespace": "alice", "name": "Bad Name"}, "name"),
        ({"namespace": "alice", "name": "app"}, "non_field_errors"),
        ({"namespace": "nobody", "name": "x"}, "namespace"),
        ({"namespace": "alice", "name": "x", "description": "d" * 101}, "description"),
    ],
)
def test_create_reports_field_errors(as_user, alice, public_repo, payload, field):
    response = as_user(alice).post(f"{API}/repositories/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_create_refuses_foreign_namespaces_anonymous_and_read_only_tokens(
    api, as_user, as_token, alice, charlie
):
    payload = {"namespace": "alice", "name": "x"}
    assert api.post(f"{API}/repositories/", payload, format="json").status_code == 401
    assert as_user(charlie).post(f"{API}/repositories/", payload, format="json").status_code == 403
    narrow = as_token(alice, "repo:read")
    assert narrow.post(f"{API}/repositories/", payload, format="json").status_code == 403
    wide = as_token(alice, "repo:write")
    assert wide.post(f"{API}/repositories/", payload, format="json").status_code == 201


def test_get_shows_details_and_the_callers_permissions(as_user, bob, private_repo):
    body = as_user(bob).get(SECRET).json()
    assert body["full_name"] == "alice/secret" and body["is_private"] is True
    assert body["permissions"] == ["pull", "push"]
    assert body["collaborator_count"] == 1 and body["comment_count"] == 0
    assert body["pull_command"] == "docker pull testserver/alice/secret"


def test_repository_names_with_slashes(api, alice):
    factories.RepositoryFactory(namespace=alice.namespace, name="tools/app")
    assert api.get(f"{API}/repositories/alice/tools/app/").json()["name"] == "tools/app"
    assert api.get(f"{API}/repositories/alice/tools/app/tags/").status_code == 200


# caller → (GET, PATCH, DELETE) status on the private repository alice/secret
MATRIX = {
    "owner": (200, 200, 204),
    "admin": (200, 200, 204),
    "write": (200, 403, 403),
    "read": (200, 403, 403),
    "outsider": (404, 404, 404),
    "anonymous": (404, 404, 404),
    "narrow": (200, 403, 403),
}


@pytest.mark.parametrize("caller", MATRIX)
def test_private_repository_permission_matrix(client_for, caller):
    client = client_for(caller)
    get, patch, delete = MATRIX[caller]
    assert client.get(SECRET).status_code == get
    assert client.patch(SECRET, {"description": "new"}, format="json").status_code == patch
    assert client.delete(SECRET).status_code == delete


def test_private_repository_looks_exactly_like_an_absent_one(api, as_user, charlie, private_repo):
    hidden = as_user(charlie).get(SECRET)
    absent = as_user(charlie).get(f"{API}/repositories/alice/nothing/")
    assert hidden.status_code == absent.status_code == 404
    assert hidden.content == absent.content
    assert api.get(f"{SECRET}tags/").content == absent.content


def test_public_repository_writes_need_a_signed_in_admin(api, as_user, charlie, public_repo):
    url = f"{API}/repositories/alice/app/"
    assert api.get(url).status_code == 200
    assert api.patch(url, {"description": "x"}, format="json").status_code == 401
    assert as_user(charlie).patch(url, {"description": "x"}, format="json").status_code == 403
    assert as_user(charlie).delete(url).status_code == 403


def test_patch_changes_fields_and_validates(as_user, alice, public_repo):
    url = f"{API}/repositories/alice/app/"
    client = as_user(alice)
    response = client.patch(
        url, {"full_description": "# Hi", "comments_enabled": False}, format="json"
    )
    assert response.status_code == 200
    public_repo.refresh_from_db()
    assert public_repo.full_description == "# Hi" and not public_repo.comments_enabled
    assert client.patch(url, {"is_private": "maybe"}, format="json").status_code == 400


def test_delete_removes_the_repository(as_user, alice, public_repo):
    assert as_user(alice).delete(f"{API}/repositories/alice/app/").status_code == 204
    assert not Repository.objects.filter(pk=public_repo.pk).exists()


def test_session_authentication_works(client, alice, private_repo):
    client.force_login(alice)
    assert client.get(SECRET).status_code == 200


def test_bad_credentials_are_401(api, alice, public_repo):
    api.credentials(HTTP_AUTHORIZATION="Bearer dky_nonsense")
    assert api.get(f"{API}/repositories/").status_code == 401
    api.credentials(HTTP_AUTHORIZATION="Basic !!!")
    assert api.get(f"{API}/repositories/").status_code == 401
