"""REST API: /api/v1/orgs/<name>/teams/ and its members and repositories."""

from __future__ import annotations

import pytest

from hub import permissions
from hub.models import Team
from hub.services import teams
from tests import factories
from tests.api.conftest import API

TEAMS = f"{API}/orgs/acme/teams/"


@pytest.fixture
def vault(acme):
    return factories.RepositoryFactory(namespace=acme.namespace, name="vault", is_private=True)


@pytest.fixture
def ops(acme, vault):
    team = teams.team_create(organization=acme, name="ops")
    teams.team_member_add(team=team, username="dave")
    teams.team_repository_grant(team=team, repository=vault, role="write")
    return team


def test_members_list_and_read_teams(as_user, dave, ops):
    client = as_user(dave)
    response = client.get(TEAMS)
    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "name": "ops",
            "description": "",
            "member_count": 1,
            "repository_count": 1,
            "created_at": response.json()["results"][0]["created_at"],
        }
    ]
    assert client.get(f"{TEAMS}ops/").json()["name"] == "ops"
    members = client.get(f"{TEAMS}ops/members/").json()["results"]
    assert members == [{"username": "dave"}]
    grants = client.get(f"{TEAMS}ops/repositories/").json()["results"]
    assert grants == [{"repository": "vault", "full_name": "acme/vault", "role": "write"}]
    # Members may not change anything.
    assert client.post(TEAMS, {"name": "mine"}).status_code == 403
    assert client.patch(f"{TEAMS}ops/", {"description": "x"}).status_code == 403
    assert client.delete(f"{TEAMS}ops/").status_code == 403


def test_outsiders_and_anonymous(api, as_user, charlie, ops):
    assert api.get(TEAMS).status_code == 401
    assert as_user(charlie).get(TEAMS).status_code == 403
    assert as_user(charlie).get(f"{TEAMS}ops/members/").status_code == 403
    assert as_user(charlie).get(f"{API}/orgs/alice/teams/").status_code == 404
    assert as_user(charlie).get(f"{API}/orgs/nobody/teams/").status_code == 404


def test_owner_manages_teams(as_user, alice, dave, acme, vault):
    client = as_user(alice)
    response = client.post(TEAMS, {"name": "ops", "description": "Operations"}, format="json")
    assert response.status_code == 201
    assert response.json()["member_count"] == 0
    assert client.post(TEAMS, {"name": "ops"}, format="json").status_code == 400
    assert client.post(TEAMS, {"name": "Not OK"}, format="json").status_code == 400

    response = client.post(f"{TEAMS}ops/members/", {"username": "dave"}, format="json")
    assert response.status_code == 201
    response = client.post(f"{TEAMS}ops/members/", {"username": "charlie"}, format="json")
    assert response.status_code == 400 and "username" in response.json()

    response = client.post(
        f"{TEAMS}ops/repositories/", {"repository": "vault", "role": "admin"}, format="json"
    )
    assert response.status_code == 201
    assert permissions.can_admin(dave, vault)
    response = client.post(
        f"{TEAMS}ops/repositories/", {"repository": "nope", "role": "admin"}, format="json"
    )
    assert response.status_code == 400 and "repository" in response.json()

    response = client.patch(f"{TEAMS}ops/", {"name": "sre"}, format="json")
    assert response.status_code == 200 and response.json()["name"] == "sre"
    assert response.json()["repository_count"] == 1

    assert client.delete(f"{TEAMS}sre/repositories/vault/").status_code == 204
    assert client.delete(f"{TEAMS}sre/repositories/vault/").status_code == 404
    assert not permissions.can_admin(dave, vault)
    assert client.delete(f"{TEAMS}sre/members/dave/").status_code == 204
    assert client.delete(f"{TEAMS}sre/members/dave/").status_code == 404
    assert client.delete(f"{TEAMS}sre/").status_code == 204
    assert not Team.objects.exists()
    assert client.get(f"{TEAMS}sre/").status_code == 404


def test_managing_teams_needs_an_admin_token(as_token, alice, acme):
    assert as_token(alice, "repo:write").post(TEAMS, {"name": "ops"}).status_code == 403
    assert as_token(alice, "repo:admin").post(TEAMS, {"name": "ops"}).status_code == 201


@pytest.mark.parametrize("team", ["NOPE", "a" * 300, "x%00y", "..", "-"])
def test_odd_team_names_are_not_found(as_user, alice, acme, team):
    assert as_user(alice).get(f"{TEAMS}{team}/").status_code == 404
