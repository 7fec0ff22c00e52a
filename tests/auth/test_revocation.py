"""Registry tokens stop working as soon as the grants they carry no longer hold."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache

from hub.models import Collaborator, Membership
from hub.services.access_tokens import access_token_create, access_token_revoke
from hub.services.organizations import membership_remove
from hub.services.repositories import repository_update
from hub.services.social import collaborator_remove
from hub.services.teams import (
    team_create,
    team_member_add,
    team_member_remove,
    team_repository_grant,
    team_repository_revoke,
)
from tests.conftest import basic_auth
from tests.factories import RepositoryFactory

pytestmark = pytest.mark.django_db


def token(client, scope: str, auth: str | None = None) -> dict:
    headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
    response = client.get(
        "/auth/token", {"service": settings.REGISTRY_SERVICE, "scope": scope}, **headers
    )
    assert response.status_code == 200, response.content
    return {"HTTP_AUTHORIZATION": f"Bearer {response.json()['token']}"}


def push_start(client, name: str, headers: dict):
    return client.post(f"/v2/{name}/blobs/uploads/", **headers)


def test_tokens_are_short_lived_by_default(client, alice):
    response = client.get("/auth/token", {"service": settings.REGISTRY_SERVICE})
    assert response.json()["expires_in"] == settings.TOKEN_EXPIRES_IN == 300


def test_a_removed_collaborator_can_neither_push_nor_pull(client, private_repo, bob):
    headers = token(client, "repository:alice/secret:pull,push", basic_auth("bob"))
    assert push_start(client, "alice/secret", headers).status_code == 202
    assert client.get("/v2/alice/secret/tags/list", **headers).status_code == 200

    collaborator_remove(collaborator=Collaborator.objects.get(user=bob))

    push = push_start(client, "alice/secret", headers)
    pull = client.get("/v2/alice/secret/tags/list", **headers)
    assert pull.status_code == 401
    assert pull.json()["errors"][0]["code"] == "UNAUTHORIZED"
    # The push is refused at once, exactly as one to a name that does not exist.
    absent = push_start(client, "alice/nothing", token(client, "", basic_auth("bob")))
    assert push.status_code == absent.status_code == 403
    assert push.json()["errors"][0]["code"] == "DENIED"
    assert push.content.replace(b"secret", b"X") == absent.content.replace(b"nothing", b"X")


def test_a_repository_made_private_refuses_old_anonymous_tokens(client, public_repo):
    headers = token(client, "repository:alice/app:pull")
    assert client.get("/v2/alice/app/tags/list", **headers).status_code == 200

    repository_update(repository=public_repo, is_private=True)

    assert client.get("/v2/alice/app/tags/list", **headers).status_code == 401


def test_a_revoked_access_token_is_refused_at_once(client, public_repo, alice):
    access_token, secret = access_token_create(user=alice, label="ci", scopes=["repo:write"])
    headers = token(client, "repository:alice/app:pull,push", basic_auth("alice", secret))
    assert push_start(client, "alice/app", headers).status_code == 202

    access_token_revoke(token=access_token)

    assert push_start(client, "alice/app", headers).status_code == 401


def test_a_password_change_ends_tokens_issued_with_the_old_one(client, public_repo, alice):
    headers = token(client, "repository:alice/app:pull,push", basic_auth("alice"))
    alice.set_password("a brand new password")
    alice.save()
    assert push_start(client, "alice/app", headers).status_code == 401


def test_leaving_an_organization_ends_its_pushes(client, acme, dave):
    headers = token(client, "repository:acme/tools:pull,push", basic_auth("dave"))
    assert push_start(client, "acme/tools", headers).status_code == 202
    membership_remove(membership=Membership.objects.get(organization=acme, user=dave))
    # The first push made acme/tools, a public repository: dave still sees it.
    refused = push_start(client, "acme/tools", headers)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "DENIED"


def test_a_revoked_team_grant_ends_its_deletes(client, acme, dave):
    vault = RepositoryFactory(namespace=acme.namespace, name="vault", is_private=True)
    team = team_create(organization=acme, name="ops")
    team_member_add(team=team, username="dave")
    team_repository_grant(team=team, repository=vault, role="admin")  # members only write
    headers = token(client, "repository:acme/vault:pull,push,delete", basic_auth("dave"))
    delete = f"/v2/acme/vault/manifests/sha256:{'0' * 64}"
    assert client.delete(delete, **headers).status_code == 404  # allowed; nothing there

    team_repository_revoke(team=team, repository=vault)

    refused = client.delete(delete, **headers)
    assert refused.status_code == 403  # dave still sees the repository as a member
    assert refused.json()["errors"][0]["code"] == "DENIED"


def test_leaving_a_team_ends_its_grants(client, acme, dave):
    vault = RepositoryFactory(namespace=acme.namespace, name="vault", is_private=True)
    team = team_create(organization=acme, name="ops")
    team_member_add(team=team, username="dave")
    team_repository_grant(team=team, repository=vault, role="admin")
    headers = token(client, "repository:acme/vault:pull,push,delete", basic_auth("dave"))

    team_member_remove(team=team, user=dave)

    delete = f"/v2/acme/vault/manifests/sha256:{'0' * 64}"
    assert client.delete(delete, **headers).status_code == 403


def test_a_lost_cache_only_costs_a_database_check(client, private_repo, bob):
    headers = token(client, "repository:alice/secret:pull,push", basic_auth("bob"))
    cache.clear()  # versions evicted: the grant is re-checked, and still holds
    assert push_start(client, "alice/secret", headers).status_code == 202
    assert client.get("/v2/alice/secret/tags/list", **headers).status_code == 200


def test_a_deactivated_user_is_refused_at_once(client, public_repo, alice):
    headers = token(client, "repository:alice/app:pull,push", basic_auth("alice"))
    alice.is_active = False
    alice.save()
    assert push_start(client, "alice/app", headers).status_code == 401
