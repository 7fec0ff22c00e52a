"""Teams: services, what they grant, visibility, and the organization's team pages."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from hub import permissions, selectors
from hub.models import Team
from hub.selectors_accounts import membership_get
from hub.services import organizations, teams
from tests import factories


@pytest.fixture
def vault(acme):
    return factories.RepositoryFactory(namespace=acme.namespace, name="vault", is_private=True)


@pytest.fixture
def ops(acme, dave, vault):
    team = teams.team_create(organization=acme, name="ops", description="Operations")
    teams.team_member_add(team=team, username="dave")
    teams.team_repository_grant(team=team, repository=vault, role="admin")
    return team


# Services


def test_team_names_follow_the_path_component_grammar(acme):
    for bad in ("", "Ops", "a b", "-x", "x" * 65):
        with pytest.raises(ValidationError) as exc:
            teams.team_create(organization=acme, name=bad)
        assert "name" in exc.value.message_dict


def test_team_names_are_unique_per_organization(acme, alice):
    teams.team_create(organization=acme, name="ops")
    with pytest.raises(ValidationError, match="already has a team"):
        teams.team_create(organization=acme, name="ops")
    other = factories.OrganizationFactory(name="other", owners=[alice])
    assert teams.team_create(organization=other, name="ops").organization == other


def test_rename_keeps_names_unique(acme, ops):
    teams.team_create(organization=acme, name="dev")
    with pytest.raises(ValidationError):
        teams.team_update(team=ops, name="dev")
    assert teams.team_update(team=ops, name="sre", description="").name == "sre"


def test_only_organization_members_join_teams(ops, charlie):
    with pytest.raises(ValidationError, match="not a member"):
        teams.team_member_add(team=ops, username="charlie")
    with pytest.raises(ValidationError):
        teams.team_member_add(team=ops, username="nobody")
    assert list(ops.members.values_list("username", flat=True)) == ["dave"]


def test_grants_are_for_the_organizations_own_repositories(ops, public_repo, vault):
    with pytest.raises(ValidationError):
        teams.team_repository_grant(team=ops, repository=public_repo, role="read")
    with pytest.raises(ValidationError):
        teams.team_repository_grant(team=ops, repository=vault, role="owner")
    grant = teams.team_repository_grant(team=ops, repository=vault, role="read")
    assert grant.role == "read" and ops.grants.count() == 1  # re-granting changes the role
    teams.team_repository_revoke(team=ops, repository=vault)
    assert not ops.grants.exists()


def test_team_grant_raises_a_members_role(ops, dave, vault):
    assert permissions.repository_role(dave, vault) == "admin"
    teams.team_member_remove(team=ops, user=dave)
    assert permissions.repository_role(dave, vault) == "write"  # membership alone


def test_leaving_the_organization_leaves_its_teams(acme, ops, dave, vault, alice):
    other = factories.OrganizationFactory(name="other", owners=[alice], members=[dave])
    elsewhere = teams.team_create(organization=other, name="ops")
    teams.team_member_add(team=elsewhere, username="dave")
    organizations.membership_remove(membership=membership_get(organization=acme, username="dave"))
    assert not ops.members.exists()
    assert list(dave.teams.all()) == [elsewhere]
    assert permissions.repository_role(dave, vault) is None


def test_team_grants_make_private_repositories_visible(acme, ops, vault, charlie):
    # charlie is in the team without being a member of acme: the grant alone makes it visible.
    ops.members.add(charlie)
    visible = selectors.repository_list_visible(user=charlie)
    assert list(visible) == [vault]
    ops.grants.all().delete()
    assert not selectors.repository_list_visible(user=charlie).exists()


def test_deleting_a_team_deletes_its_grants(ops, dave, vault):
    teams.team_delete(team=ops)
    assert not Team.objects.exists()
    assert permissions.repository_role(dave, vault) == "write"


# Pages


def test_members_see_teams(client, ops, dave):
    client.force_login(dave)
    response = client.get("/orgs/acme/teams/")
    assert response.status_code == 200
    assert "ops" in response.content.decode()
    assert "Create a team" not in response.content.decode()
    response = client.get("/orgs/acme/teams/ops/")
    assert response.status_code == 200
    assert "acme/vault" in response.content.decode()
    assert client.post("/orgs/acme/teams/", {"name": "mine"}).status_code == 403
    assert client.post("/orgs/acme/teams/ops/delete/").status_code == 403


def test_outsiders_do_not_see_teams(client, ops, charlie):
    assert client.get("/orgs/acme/teams/").status_code == 302  # to sign in
    client.force_login(charlie)
    assert client.get("/orgs/acme/teams/").status_code == 403
    assert client.get("/orgs/acme/teams/ops/").status_code == 403
    assert client.get("/orgs/alice/teams/").status_code == 404  # a user, not an organization


def test_owner_manages_a_team(client, acme, alice, dave, vault):
    client.force_login(alice)
    response = client.post("/orgs/acme/teams/", {"name": "Bad Name"})
    assert response.status_code == 400
    response = client.post("/orgs/acme/teams/", {"name": "ops", "description": "Ops"})
    assert response.status_code == 302
    team = Team.objects.get(organization=acme, name="ops")

    client.post("/orgs/acme/teams/ops/members/", {"username": "dave"})
    assert list(team.members.all()) == [dave]
    response = client.post("/orgs/acme/teams/ops/members/", {"username": "charlie"}, follow=True)
    assert "not a member" in response.content.decode()

    client.post("/orgs/acme/teams/ops/repositories/", {"repository": "vault", "role": "admin"})
    assert permissions.repository_role(dave, vault) == "admin"
    response = client.post(
        "/orgs/acme/teams/ops/repositories/", {"repository": "nope", "role": "admin"}, follow=True
    )
    assert "Choose a repository" in response.content.decode()
    client.post(
        "/orgs/acme/teams/ops/repositories/",
        {"repository": "vault", "role": "admin", "revoke": "1"},
    )
    assert not team.grants.exists()

    client.post("/orgs/acme/teams/ops/members/dave/remove/")
    assert not team.members.exists()
    assert client.post("/orgs/acme/teams/ops/members/dave/remove/").status_code == 404
    assert client.post("/orgs/acme/teams/ops/members/x%00y/remove/").status_code == 404

    response = client.post("/orgs/acme/teams/ops/delete/")
    assert response.status_code == 302
    assert not Team.objects.exists()
    assert client.get("/orgs/acme/teams/ops/").status_code == 404
