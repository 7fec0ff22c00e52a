"""Rename and transfer through the REST API, and the redirects of old names (API and pages).

The cast: alice owns alice/app and the organization acme (dave is a member); bob owns his own
namespace and nothing else."""

from __future__ import annotations

import pytest

from hub.models import (
    AuditEntry,
    Collaborator,
    Repository,
    RepositoryRedirect,
    RobotPermission,
    Star,
    Team,
    TeamRepository,
)
from hub.services.robots import robot_create
from registry_api.models import Tag
from tests import factories
from tests.api.conftest import API
from tests.conftest import PASSWORD
from webhooks.models import Event, Webhook

TRANSFER = f"{API}/repositories/alice/app/transfer/"


@pytest.fixture
def alice_api(as_user, alice):
    return as_user(alice)


def _transfer(client, body, url=TRANSFER):
    return client.post(url, body, format="json")


def test_owner_transfers_into_an_organization(alice_api, alice, bob, public_repo, acme, tagged):
    Star.objects.create(repository=public_repo, user=bob)
    factories.CollaboratorFactory(repository=public_repo, user=bob, role="read")
    hook = Webhook.objects.create(repository=public_repo, name="ci", url="https://ci.example/h")
    response = _transfer(alice_api, {"namespace": "acme"})
    assert response.status_code == 200, response.content
    assert response.json()["full_name"] == "acme/app"
    public_repo.refresh_from_db()
    assert public_repo.full_name == "acme/app"
    # Everything that points at the repository moved with it.
    assert Star.objects.get().repository == public_repo
    assert Collaborator.objects.get().repository == public_repo
    assert set(Tag.objects.values_list("repository_id", flat=True)) == {public_repo.pk}
    hook.refresh_from_db()
    assert hook.repository == public_repo
    redirect = RepositoryRedirect.objects.get()
    assert (redirect.full_name, redirect.repository) == ("alice/app", public_repo)
    # Audited in both namespaces; a repository event for the hooks.
    entries = AuditEntry.objects.filter(action="repository.transfer")
    assert {e.namespace for e in entries} == {"alice", "acme"}
    assert entries[0].data == {"from": "alice/app", "to": "acme/app"}
    assert Event.objects.filter(action="repository_rename").exists()


def test_owner_renames_within_the_namespace(alice_api, public_repo):
    response = _transfer(alice_api, {"name": "tools/app"})
    assert response.status_code == 200
    assert response.json()["full_name"] == "alice/tools/app"
    assert AuditEntry.objects.filter(action="repository.rename").count() == 1


def test_leaving_an_organization_drops_its_team_and_robot_grants(alice_api, alice, acme):
    repository = factories.RepositoryFactory(namespace=acme.namespace, name="svc")
    team = Team.objects.create(organization=acme, name="devs")
    TeamRepository.objects.create(team=team, repository=repository, role="write")
    robot, _secret = robot_create(namespace=acme.namespace, name="ci", created_by=alice)
    RobotPermission.objects.create(robot=robot, repository=repository, level="push")
    response = _transfer(
        alice_api, {"namespace": "alice"}, url=f"{API}/repositories/acme/svc/transfer/"
    )
    assert response.status_code == 200
    assert not TeamRepository.objects.exists()
    assert not RobotPermission.objects.filter(repository=repository).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "app"}, "name"),  # unchanged
        ({"name": "Bad Name"}, "name"),
        ({"name": "taken"}, "name"),
        ({"name": "a" * 256}, "name"),
        ({"namespace": "nobody-here"}, "namespace"),
        ({"namespace": "acme", "name": "x" * 252}, "name"),
    ],
)
def test_bad_destinations_are_400(alice_api, alice, public_repo, acme, body, field):
    factories.RepositoryFactory(namespace=alice.namespace, name="taken")
    response = _transfer(alice_api, body)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Repository.objects.get(pk=public_repo.pk).full_name == "alice/app"


def test_only_namespace_owners_transfer(as_user, as_token, alice, bob, dave, public_repo, acme):
    factories.CollaboratorFactory(repository=public_repo, user=bob, role="admin")
    assert _transfer(as_user(bob), {"name": "mine"}).status_code == 403
    org_repo = factories.RepositoryFactory(namespace=acme.namespace, name="svc")
    url = f"{API}/repositories/acme/svc/transfer/"
    assert _transfer(as_user(dave), {"name": "other"}, url=url).status_code == 403  # a member
    assert _transfer(as_token(alice, "repo:write"), {"name": "x"}).status_code == 403
    assert _transfer(as_token(alice, "repo:admin"), {"name": "x"}).status_code == 200
    org_repo.refresh_from_db()
    assert org_repo.full_name == "acme/svc"


def test_transfer_needs_create_rights_at_the_destination(
    alice_api, as_user, bob, dave, public_repo, acme
):
    assert _transfer(alice_api, {"namespace": "bob"}).status_code == 403
    factories.RepositoryFactory(namespace=dave.namespace, name="tool")
    url = f"{API}/repositories/dave/tool/transfer/"
    assert _transfer(as_user(dave), {"namespace": "acme"}, url=url).status_code == 200  # member
    # bob sees the public acme/tool but owns nothing there.
    url = f"{API}/repositories/acme/tool/transfer/"
    assert _transfer(as_user(bob), {"namespace": "bob"}, url=url).status_code == 403


def test_private_repository_stays_hidden(as_user, alice, bob, private_repo):
    """bob cannot tell alice/secret from an absent name, before or after it moved."""
    url = f"{API}/repositories/alice/secret/transfer/"
    assert _transfer(as_user(bob), {"name": "x"}, url=url).status_code == 403  # collaborator
    charlie = factories.UserFactory(username="charlie")
    assert _transfer(as_user(charlie), {"name": "x"}, url=url).status_code == 404


def test_api_old_name_redirects_with_308(alice_api, api, public_repo, acme, tagged):
    _transfer(alice_api, {"namespace": "acme"})
    response = api.get(f"{API}/repositories/alice/app/")
    assert response.status_code == 308
    assert response["Location"] == f"{API}/repositories/acme/app/"
    tags = api.get(f"{API}/repositories/alice/app/tags/?page=2")
    assert tags.status_code == 308
    assert tags["Location"] == f"{API}/repositories/acme/app/tags/?page=2"
    # Writes are redirected too: the client re-sends them to the new name, authorized there.
    patch = alice_api.patch(f"{API}/repositories/alice/app/", {"description": "x"}, format="json")
    assert patch.status_code == 308
    followed = alice_api.patch(patch["Location"], {"description": "x"}, format="json")
    assert followed.status_code == 200


def test_private_old_name_is_404_to_outsiders_in_api_and_pages(
    client, as_user, alice_api, bob, private_repo, acme
):
    """The attack: charlie probes the old name; he gets what an absent name gives."""
    _transfer(
        alice_api,
        {"namespace": "acme", "name": "hidden"},
        url=f"{API}/repositories/alice/secret/transfer/",
    )
    charlie = factories.UserFactory(username="charlie")
    for name in ("alice/secret", "alice/never"):
        response = as_user(charlie).get(f"{API}/repositories/{name}/")
        assert response.status_code == 404
        assert response.json() == {"detail": "Repository not found."}
        client.login(username="charlie", password=PASSWORD)
        page = client.get(f"/r/{name}/")
        assert page.status_code == 404
        assert b"acme/hidden" not in page.content
    # bob, a collaborator (collaborators move with it), follows the redirect.
    assert as_user(bob).get(f"{API}/repositories/alice/secret/").status_code == 308


def test_pages_of_the_old_name_redirect_with_301(client, alice_api, public_repo, acme, tagged):
    _transfer(alice_api, {"namespace": "acme"})
    response = client.get("/r/alice/app/")
    assert response.status_code == 301
    assert response["Location"] == "/r/acme/app/"
    tag = client.get("/r/alice/app/-/tags/latest/?platform=x")
    assert tag["Location"] == "/r/acme/app/-/tags/latest/?platform=x"
    client.login(username="alice", password=PASSWORD)
    assert client.post("/r/alice/app/-/star/").status_code == 404  # forms are not re-sent


def test_redirects_list_and_delete(alice_api, as_user, api, bob, public_repo, acme):
    _transfer(alice_api, {"namespace": "acme"})
    listed = alice_api.get(f"{API}/repositories/acme/app/redirects/")
    assert listed.status_code == 200
    (entry,) = listed.json()
    assert entry["full_name"] == "alice/app"
    assert entry["created_by"] == "alice"
    url = f"{API}/repositories/acme/app/redirects/{entry['id']}/"
    assert as_user(bob).delete(url).status_code == 403
    assert alice_api.delete(f"{API}/repositories/acme/app/redirects/999/").status_code == 404
    assert alice_api.delete(f"{API}/repositories/acme/app/redirects/x/").status_code == 404
    assert alice_api.delete(url).status_code == 204
    assert not RepositoryRedirect.objects.exists()
    assert api.get(f"{API}/repositories/alice/app/").status_code == 404
    assert AuditEntry.objects.filter(action="repository.redirect_delete").count() == 1


def test_creating_at_the_old_name_ends_the_redirect(alice_api, public_repo, acme):
    _transfer(alice_api, {"namespace": "acme"})
    created = alice_api.post(
        f"{API}/repositories/", {"namespace": "alice", "name": "app"}, format="json"
    )
    assert created.status_code == 201
    assert not RepositoryRedirect.objects.exists()
    assert alice_api.get(f"{API}/repositories/alice/app/").status_code == 200


def test_moving_back_takes_the_old_name(alice_api, public_repo, acme):
    _transfer(alice_api, {"namespace": "acme"})
    back = _transfer(
        alice_api, {"namespace": "alice"}, url=f"{API}/repositories/acme/app/transfer/"
    )
    assert back.status_code == 200
    assert [r.full_name for r in RepositoryRedirect.objects.all()] == ["acme/app"]


def test_mirrored_repository_is_not_renamed(alice_api, alice):
    factories.RepositoryFactory(namespace=alice.namespace, name="cache", mirror_of="docker.io")
    url = f"{API}/repositories/alice/cache/transfer/"
    assert _transfer(alice_api, {"name": "other"}, url=url).status_code == 403


def test_transfer_into_a_namespace_over_its_quota_is_refused(client, alice_api, public_repo, acme):
    from hub.models import NamespaceQuota
    from tests.registry_api.conftest import image_push

    image_push(client, "alice/app", "v1", layer=b"x" * 100)
    NamespaceQuota.objects.create(namespace=acme.namespace, limit_bytes=50)
    response = _transfer(alice_api, {"namespace": "acme"})
    assert response.status_code == 403
    assert "quota exceeded for namespace acme" in response.json()["detail"]
    assert Repository.objects.get(pk=public_repo.pk).full_name == "alice/app"
    NamespaceQuota.objects.filter(namespace=acme.namespace).update(limit_bytes=10_000)
    assert _transfer(alice_api, {"namespace": "acme"}).status_code == 200
