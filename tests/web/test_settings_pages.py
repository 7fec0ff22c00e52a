"""Repository settings: only admins; every form shows errors; every action gives feedback."""

from __future__ import annotations

import pytest

from hub.models import Collaborator, Repository
from registry_api.models import Tag
from tests import factories
from tests.conftest import PASSWORD
from tests.web.conftest import image_create

SETTINGS = "/r/alice/app/-/settings/"


@pytest.fixture
def as_alice(client, alice):
    client.login(username="alice", password=PASSWORD)
    return client


def login(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


def test_settings_page_shows_every_section_to_the_owner(as_alice, tagged_repo):
    response = as_alice.get(SETTINGS)
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("Short description", "Collaborators", "Add a collaborator", "latest", "Webhooks"):
        assert text in html
    assert "Delete this repository" in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_settings_are_404_to_non_admins(client, public_repo, private_repo, bob, charlie):
    assert client.get(SETTINGS).status_code == 302  # anonymous: sign in first
    login(client, bob)
    assert client.get(SETTINGS).status_code == 404
    assert client.get("/r/alice/secret/-/settings/").status_code == 404  # write is not admin
    assert client.post(SETTINGS, {"description": "hacked"}).status_code == 404
    client.logout()
    login(client, charlie)
    assert client.get("/r/alice/secret/-/settings/").status_code == 404


def test_admin_collaborator_and_org_owner_may_open_settings(client, acme, alice, dave, bob):
    factories.RepositoryFactory(namespace=acme.namespace, name="svc")
    repository = factories.RepositoryFactory(namespace=dave.namespace, name="tool")
    factories.CollaboratorFactory(repository=repository, user=bob, role="admin")
    assert login(client, alice).get("/r/acme/svc/-/settings/").status_code == 200
    client.logout()
    assert login(client, dave).get("/r/acme/svc/-/settings/").status_code == 404  # member only
    client.logout()
    assert login(client, bob).get("/r/dave/tool/-/settings/").status_code == 200


def test_saving_settings_updates_repository(as_alice, public_repo):
    response = as_alice.post(
        SETTINGS,
        {"description": "Short", "full_description": "# Long", "is_private": "on"},
        follow=True,
    )
    assert "Settings saved." in response.content.decode()
    public_repo.refresh_from_db()
    assert public_repo.description == "Short"
    assert public_repo.full_description == "# Long"
    assert public_repo.is_private is True
    assert public_repo.comments_enabled is False  # unchecked box turns comments off


def test_settings_form_shows_field_errors(as_alice, public_repo):
    response = as_alice.post(SETTINGS, {"description": "x" * 101, "comments_enabled": "on"})
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    public_repo.refresh_from_db()
    assert public_repo.description == "A test repository"


def test_add_change_and_remove_collaborator(as_alice, public_repo, charlie):
    response = as_alice.post(
        SETTINGS + "collaborators/", {"username": "charlie", "role": "write"}, follow=True
    )
    assert "charlie is now a collaborator" in response.content.decode()
    assert Collaborator.objects.get(repository=public_repo, user=charlie).role == "write"
    as_alice.post(SETTINGS + "collaborators/charlie/", {"role": "admin", "action": "update"})
    assert Collaborator.objects.get(repository=public_repo, user=charlie).role == "admin"
    response = as_alice.post(SETTINGS + "collaborators/charlie/", {"action": "remove"}, follow=True)
    assert "charlie removed." in response.content.decode()
    assert not Collaborator.objects.filter(repository=public_repo).exists()


def test_adding_unknown_user_shows_error(as_alice, public_repo):
    response = as_alice.post(SETTINGS + "collaborators/", {"username": "ghost", "role": "read"})
    assert response.status_code == 200
    assert "There is no user named" in response.content.decode()


def test_adding_with_bad_role_shows_field_error(as_alice, public_repo, charlie):
    response = as_alice.post(SETTINGS + "collaborators/", {"username": "charlie", "role": "god"})
    assert "errorlist" in response.content.decode()
    assert not Collaborator.objects.exists()


def test_unknown_collaborator_is_404(as_alice, public_repo):
    response = as_alice.post(SETTINGS + "collaborators/nobody/", {"action": "remove"})
    assert response.status_code == 404


def test_added_collaborator_then_sees_private_repository(client, private_repo, charlie):
    login(client, charlie)
    assert client.get("/r/alice/secret/").status_code == 404
    client.logout()
    login(client, private_repo.namespace.user)
    form = {"username": "charlie", "role": "read"}
    client.post("/r/alice/secret/-/settings/collaborators/", form)
    client.logout()
    login(client, charlie)
    assert client.get("/r/alice/secret/").status_code == 200


def test_deleting_a_tag_removes_only_that_tag_and_404s_an_unknown_one(as_alice, tagged_repo):
    image_create(tagged_repo, "old")
    response = as_alice.post(SETTINGS + "tags/old/delete/", follow=True)
    assert "Tag old deleted." in response.content.decode()
    assert list(Tag.objects.values_list("name", flat=True)) == ["latest"]
    assert as_alice.post(SETTINGS + "tags/nope/delete/").status_code == 404


def test_non_admin_cannot_delete_tag(client, private_repo, bob):
    image_create(private_repo, "v1")
    login(client, bob)
    assert client.post("/r/alice/secret/-/settings/tags/v1/delete/").status_code == 404
    assert Tag.objects.filter(name="v1").exists()


def test_delete_repository_needs_its_name(as_alice, public_repo):
    response = as_alice.post(SETTINGS + "delete/", {"confirm": "app"})
    assert response.status_code == 200
    assert "That is not the name of this repository" in response.content.decode()
    assert Repository.objects.filter(pk=public_repo.pk).exists()
    response = as_alice.post(SETTINGS + "delete/", {"confirm": "alice/app"}, follow=True)
    assert response.redirect_chain[-1][0] == "/u/alice/"
    assert "Repository alice/app deleted." in response.content.decode()
    assert not Repository.objects.filter(pk=public_repo.pk).exists()


def test_webhooks_link_when_the_page_exists(as_alice, public_repo):
    from django.urls import NoReverseMatch, reverse

    html = as_alice.get(SETTINGS).content.decode()
    try:
        url = reverse("webhooks:list", kwargs={"namespace": "alice", "name": "app"})
    except NoReverseMatch:
        assert "Webhooks are not available" in html
    else:
        assert url in html
