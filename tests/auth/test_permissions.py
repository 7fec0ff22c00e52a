"""hub.permissions truth table: every kind of caller × public / private repository."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from hub import permissions
from hub.models import Membership, Team, TeamRepository
from tests import factories

ALL = {"pull", "push", "delete", "admin"}
RW = {"pull", "push"}
R = {"pull"}
NONE: set[str] = set()

# caller: (actions on a public repository, actions on a private repository)
TABLE = {
    "owner": (ALL, ALL),
    "org_owner": (ALL, ALL),
    "org_member": (RW, RW),
    "collaborator_admin": (ALL, ALL),
    "collaborator_write": (RW, RW),
    "collaborator_read": (R, R),
    "outsider": (R, NONE),
    "anonymous": (R, NONE),
    "superuser": (ALL, ALL),
    # Members of a team of corp (so members of corp, whose role is already write).
    "team_admin": (ALL, ALL),
    "team_write": (RW, RW),
    "team_read": (RW, RW),
}


@pytest.fixture
def cast(db):
    owner = factories.UserFactory(username="owner")
    org_owner = factories.UserFactory(username="orgowner")
    org_member = factories.UserFactory(username="orgmember")
    org = factories.OrganizationFactory(name="corp", owners=[org_owner], members=[org_member])
    users = {
        "owner": owner,
        "org_owner": org_owner,
        "org_member": org_member,
        "outsider": factories.UserFactory(username="outsider"),
        "anonymous": AnonymousUser(),
        "superuser": factories.UserFactory(username="root", is_superuser=True),
    }
    for role in ("admin", "write", "read"):
        users[f"collaborator_{role}"] = factories.UserFactory(username=f"collab{role}")
    repos = {}
    for private in (False, True):
        for space in (owner.namespace, org.namespace):
            repo = factories.RepositoryFactory(
                namespace=space, name="private" if private else "public", is_private=private
            )
            for role in ("admin", "write", "read"):
                factories.CollaboratorFactory(
                    repository=repo, user=users[f"collaborator_{role}"], role=role
                )
            repos[(space.name, private)] = repo
    for role in ("admin", "write", "read"):
        member = factories.UserFactory(username=f"team{role}")
        Membership.objects.create(organization=org, user=member)
        team = Team.objects.create(organization=org, name=f"team-{role}")
        team.members.add(member)
        for private in (False, True):
            TeamRepository.objects.create(team=team, repository=repos[("corp", private)], role=role)
        users[f"team_{role}"] = member
    return users, repos


@pytest.mark.parametrize("caller", TABLE)
@pytest.mark.parametrize("private", [False, True], ids=["public", "private"])
def test_allowed_actions_follow_the_role_table(cast, caller, private):
    users, repos = cast
    expected = TABLE[caller][private]
    # The user namespace is "owned" by owner; the org namespace by org_owner.
    space = "corp" if caller.startswith(("org_", "team_")) else "owner"
    repo = repos[(space, private)]
    user = users[caller]
    assert permissions.allowed_actions(user, repo) == expected
    assert permissions.can_view(user, repo) == ("pull" in expected)
    assert permissions.can_pull(user, repo) == ("pull" in expected)
    assert permissions.can_push(user, repo) == ("push" in expected)
    assert permissions.can_delete(user, repo) == ("delete" in expected)
    assert permissions.can_admin(user, repo) == ("admin" in expected)


def test_org_roles_do_not_reach_other_namespaces(cast):
    users, repos = cast
    assert permissions.allowed_actions(users["org_owner"], repos[("owner", True)]) == NONE
    assert permissions.allowed_actions(users["org_member"], repos[("owner", False)]) == R
    assert permissions.allowed_actions(users["owner"], repos[("corp", True)]) == NONE


@pytest.mark.parametrize(
    ("caller", "space", "expected"),
    [
        ("owner", "owner", True),
        ("owner", "corp", False),
        ("org_owner", "corp", True),
        ("org_member", "corp", True),
        ("collaborator_admin", "owner", False),
        ("outsider", "owner", False),
        ("anonymous", "owner", False),
        ("superuser", "corp", True),
    ],
)
def test_only_owners_org_members_and_superusers_may_create_in_a_namespace(
    cast, caller, space, expected
):
    users, repos = cast
    namespace = repos[(space, False)].namespace
    assert permissions.can_create(users[caller], namespace) is expected
    assert permissions.can_create(users[caller], None) is False


def test_can_manage_organization(cast):
    users, repos = cast
    corp = repos[("corp", False)].namespace
    assert permissions.can_manage_organization(users["org_owner"], corp)
    assert not permissions.can_manage_organization(users["org_member"], corp)
    assert not permissions.can_manage_organization(
        users["owner"], repos[("owner", False)].namespace
    )


@pytest.mark.parametrize(
    ("scopes", "expected"),
    [
        (["repo:read"], R),
        (["repo:write"], RW),
        (["repo:delete"], {"pull", "push", "delete"}),
        (["repo:admin"], ALL),
        (["repo:read", "repo:delete"], {"pull", "push", "delete"}),
        ([], NONE),
    ],
)
def test_access_token_scopes_limit_the_owner(cast, scopes, expected):
    users, repos = cast
    assert permissions.allowed_actions(users["owner"], repos[("owner", True)], scopes) == expected
    # A public repository stays pullable whatever the token's scopes.
    assert permissions.allowed_actions(users["owner"], repos[("owner", False)], scopes) == (
        expected | R
    )


def test_access_token_never_exceeds_its_user(cast):
    users, repos = cast
    reader = users["collaborator_read"]
    assert permissions.allowed_actions(reader, repos[("owner", True)], ["repo:admin"]) == R
    assert (
        permissions.can_create(users["owner"], repos[("owner", True)].namespace, ["repo:read"])
        is False
    )


def test_mirror_repository_refuses_push(cast):
    users, _repos = cast
    mirror = factories.RepositoryFactory(
        namespace=users["owner"].namespace, name="mirror", mirror_of="docker.io/library/alpine"
    )
    assert permissions.allowed_actions(users["owner"], mirror) == ALL - {"push"}


@pytest.mark.parametrize(("role", "expected"), [("read", R), ("write", RW), ("admin", ALL)])
def test_a_team_grant_alone_gives_its_role(cast, role, expected):
    """The grant's role is what counts (services keep team members inside the organization;
    here the user is not a member, so the team is their only way in)."""
    users, repos = cast
    team = Team.objects.get(name=f"team-{role}")
    outsider = users["outsider"]
    team.members.add(outsider)
    assert permissions.allowed_actions(outsider, repos[("corp", True)]) == expected
    assert permissions.allowed_actions(outsider, repos[("owner", True)]) == NONE


def test_team_grants_reach_only_granted_repositories(cast):
    users, repos = cast
    team = Team.objects.get(name="team-admin")
    other = factories.RepositoryFactory(namespace=repos[("corp", True)].namespace, is_private=True)
    assert permissions.allowed_actions(users["team_admin"], other) == RW  # membership only
    team.grants.all().delete()
    assert permissions.allowed_actions(users["team_admin"], repos[("corp", True)]) == RW
