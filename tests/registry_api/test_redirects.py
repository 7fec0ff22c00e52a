"""Pulls through a moved repository's old name (registry_api.redirects, hub.services.transfers).

The cast: alice owns alice/app and the organization acme (dave is a member); bob is nobody
there. alice/app moves to acme/app and its old name redirects."""

from __future__ import annotations

import pytest

from hub.models import AuditEntry, Namespace, Repository, RepositoryRedirect
from hub.services.repositories import repository_create
from hub.services.transfers import redirect_delete, repository_transfer
from registry_api import lookups
from tests import factories
from tests.conftest import basic_auth
from tests.registry_api.conftest import bearer, image_push, pull_access, push_access

MANIFEST_ACCEPT = "application/vnd.oci.image.manifest.v1+json"


def _moved(repository, alice, namespace: str = "acme", name: str = "app"):
    destination = Namespace.objects.get(name=namespace)
    return repository_transfer(repository=repository, namespace=destination, name=name, actor=alice)


def _get_manifest(client, name: str, reference: str, **headers):
    return client.get(f"/v2/{name}/manifests/{reference}", HTTP_ACCEPT=MANIFEST_ACCEPT, **headers)


@pytest.fixture
def pushed(client, public_repo, acme):
    """alice/app:v1 pushed; returns its digest."""
    return image_push(client, "alice/app", "v1")


def test_pull_through_old_name_with_deprecation_headers(client, alice, bob, public_repo, pushed):
    _moved(public_repo, alice)
    response = _get_manifest(client, "alice/app", "v1", **bearer("bob", pull_access("alice/app")))
    assert response.status_code == 200, response.content
    assert response["Docker-Content-Digest"] == pushed
    assert response["Deprecation"] == "true"
    assert response["Link"] == '</v2/acme/app/manifests/v1>; rel="successor-version"'
    assert "acme/app" in response["Warning"]
    # The new name answers without any of that.
    fresh = _get_manifest(client, "acme/app", "v1", **bearer("bob", pull_access("acme/app")))
    assert fresh.status_code == 200
    assert not fresh.has_header("Deprecation")


def test_blobs_and_tags_follow_too(client, alice, bob, public_repo, pushed):
    _moved(public_repo, alice)
    headers = bearer("bob", pull_access("alice/app"))
    tags = client.get("/v2/alice/app/tags/list", **headers)
    assert tags.status_code == 200
    assert tags.json()["tags"] == ["v1"]
    manifest = _get_manifest(client, "alice/app", pushed, **headers).json()
    layer = manifest["layers"][0]["digest"]
    blob = client.get(f"/v2/alice/app/blobs/{layer}", **headers)
    assert blob.status_code in (200, 307)
    assert blob["Deprecation"] == "true"


def test_redirected_manifest_get_is_audited(client, alice, bob, public_repo, pushed):
    _moved(public_repo, alice)
    _get_manifest(client, "alice/app", "v1", **bearer("bob", pull_access("alice/app")))
    entry = AuditEntry.objects.get(action="repository.redirect_pull")
    assert entry.target == "alice/app:v1"
    assert entry.namespace == "acme"
    assert entry.data == {"repository": "acme/app"}
    assert entry.actor_name == "bob"


def test_basic_credentials_follow(client, alice, bob, public_repo, pushed):
    _moved(public_repo, alice)
    response = _get_manifest(client, "alice/app", "v1", HTTP_AUTHORIZATION=basic_auth("bob"))
    assert response.status_code == 200


def test_token_service_grants_pull_on_old_name_only_to_who_may_pull(
    client, alice, bob, public_repo, pushed
):
    public_repo.is_private = True
    public_repo.save()
    _moved(public_repo, alice)
    scope = {"service": "dockyard", "scope": "repository:alice/app:pull,push"}
    for user, expected in (("alice", ["pull"]), ("dave", ["pull"]), ("bob", [])):
        body = client.get("/auth/token", scope, HTTP_AUTHORIZATION=basic_auth(user)).json()
        token = body["token"]
        from hub.registry_tokens import token_verify

        actions = token_verify(token)["access"][0]["actions"]
        assert actions == expected, user


def test_push_to_old_name_is_refused_naming_the_new_one(client, alice, bob, public_repo, pushed):
    _moved(public_repo, alice)
    response = client.post(
        "/v2/alice/app/blobs/uploads/", **bearer("alice", push_access("alice/app"))
    )
    assert response.status_code == 403
    error = response.json()["errors"][0]
    assert error["code"] == "DENIED"
    assert "renamed to acme/app" in error["message"]
    assert "push to acme/app" in error["message"]
    # Basic credentials too.
    response = client.post("/v2/alice/app/blobs/uploads/", HTTP_AUTHORIZATION=basic_auth("alice"))
    assert response.status_code == 403
    assert "acme/app" in response.json()["errors"][0]["message"]


def test_delete_through_old_name_is_refused(client, alice, bob, public_repo, pushed):
    _moved(public_repo, alice)
    access = [{"type": "repository", "name": "alice/app", "actions": ["pull", "push", "delete"]}]
    response = client.delete(f"/v2/alice/app/manifests/{pushed}", **bearer("alice", access))
    assert response.status_code in (401, 403)
    assert (
        _get_manifest(
            client, "acme/app", "v1", **bearer("alice", pull_access("acme/app"))
        ).status_code
        == 200
    )


def test_private_redirect_is_an_unknown_name_to_outsiders(client, alice, bob, public_repo, pushed):
    """The attack: bob guesses the old name of a repository made private and moved; what he
    gets is what a name that never existed gives, and nothing names the new one."""
    public_repo.is_private = True
    public_repo.save()
    _moved(public_repo, alice, name="hidden")

    def answers(name: str) -> list:
        seen = []
        for headers in (
            bearer("bob", pull_access(name)),
            {"HTTP_AUTHORIZATION": basic_auth("bob")},
            {},
        ):
            response = _get_manifest(client, name, "v1", **headers)
            assert "hidden" not in str(response.headers) + response.content.decode()
            assert not response.has_header("Deprecation")
            body = response.content.decode().replace(name, "NAME")
            seen.append((response.status_code, body))
        push = client.post(f"/v2/{name}/blobs/uploads/", HTTP_AUTHORIZATION=basic_auth("bob"))
        message = push.json()["errors"][0]["message"]
        assert "hidden" not in message
        leaf = name.split("/", 1)[1]
        seen.append((push.status_code, message.replace(name, "NAME").replace(leaf, "LEAF")))
        return seen

    assert answers("alice/app") == answers("alice/nothing")


def test_old_token_for_old_name_stops_when_target_turns_private(
    client, alice, bob, public_repo, pushed
):
    """A token for `alice/app:pull` issued while the moved repository was public must not
    pull it once it is private: the redirect is decided from the database on each request."""
    _moved(public_repo, alice)
    headers = bearer("bob", pull_access("alice/app"))
    assert _get_manifest(client, "alice/app", "v1", **headers).status_code == 200
    public_repo.is_private = True
    public_repo.save()
    response = _get_manifest(client, "alice/app", "v1", **headers)
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "NAME_UNKNOWN"


def test_removed_redirect_is_unknown(client, alice, bob, public_repo, pushed):
    _moved(public_repo, alice)
    headers = bearer("bob", pull_access("alice/app"))
    assert _get_manifest(client, "alice/app", "v1", **headers).status_code == 200  # remembered
    redirect_delete(redirect=RepositoryRedirect.objects.get(), actor=alice)
    response = _get_manifest(client, "alice/app", "v1", **headers)
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "NAME_UNKNOWN"


def test_reusing_the_old_name_ends_the_redirect(client, alice, bob, public_repo, pushed):
    _moved(public_repo, alice)
    repository_create(namespace=alice.namespace, name="app", actor=alice)
    assert not RepositoryRedirect.objects.exists()
    response = _get_manifest(client, "alice/app", "v1", **bearer("bob", pull_access("alice/app")))
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"


def test_catalog_lists_the_new_name_only(client, alice, bob, public_repo, pushed):
    _moved(public_repo, alice)
    response = client.get("/v2/_catalog", HTTP_AUTHORIZATION=basic_auth("alice"))
    assert response.json()["repositories"] == ["acme/app"]


def test_rename_voids_remembered_lookups(client, alice, bob, public_repo, pushed):
    headers = bearer("bob", pull_access("alice/app"))
    assert _get_manifest(client, "alice/app", "v1", **headers).status_code == 200
    _moved(public_repo, alice, namespace="alice", name="renamed")
    response = _get_manifest(client, "alice/app", "v1", **headers)
    assert response["Link"] == '</v2/alice/renamed/manifests/v1>; rel="successor-version"'
    lookups.forget_all()


def test_single_component_old_name_follows(client, alice, bob):
    """`docker pull centos` after library/centos became library/centos7."""
    root = factories.UserFactory(username="root")
    root.is_superuser = root.is_staff = True
    root.save()
    library = Namespace.objects.get(name="library")
    image_push(client, "centos", "latest", headers=bearer("root", push_access("library/centos")))
    centos = Repository.objects.get(namespace=library, name="centos")
    repository_transfer(repository=centos, namespace=library, name="centos7", actor=root)
    response = _get_manifest(client, "centos", "latest", **bearer("bob", pull_access("centos")))
    assert response.status_code == 200
    assert response["Link"] == '</v2/centos7/manifests/latest>; rel="successor-version"'
    assert "centos was renamed to centos7" in response["Warning"]


def test_token_service_then_pull_as_docker_does(client, alice, bob, public_repo, pushed):
    """The whole docker flow for a private repository's old name: challenge, token for the
    old scope, pull; dave is a member of acme, where it moved."""
    public_repo.is_private = True
    public_repo.save()
    _moved(public_repo, alice)
    challenge = _get_manifest(client, "alice/app", "v1")
    assert challenge.status_code == 401
    assert 'scope="repository:alice/app:pull"' in challenge["WWW-Authenticate"]
    answer = client.get(
        "/auth/token",
        {"service": "dockyard", "scope": "repository:alice/app:pull"},
        HTTP_AUTHORIZATION=basic_auth("dave"),
    )
    headers = {"HTTP_AUTHORIZATION": f"Bearer {answer.json()['token']}"}
    assert _get_manifest(client, "alice/app", "v1", **headers).status_code == 200
