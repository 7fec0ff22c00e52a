"""The settings page's "Rename or transfer" section and its list of old names."""

from __future__ import annotations

import pytest

from hub.models import Repository, RepositoryRedirect
from tests import factories
from tests.conftest import PASSWORD

SETTINGS = "/r/alice/app/-/settings/"
TRANSFER = "/r/alice/app/-/settings/transfer/"


def login(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def as_alice(client, alice):
    return login(client, alice)


def test_owner_sees_the_form_with_namespaces_they_may_create_in(as_alice, public_repo, acme):
    factories.OrganizationFactory(name="other")  # alice is no member: not offered
    html = as_alice.get(SETTINGS).content.decode()
    assert "Rename or transfer" in html
    assert '<option value="acme"' in html
    assert '<option value="alice" selected' in html
    assert 'value="other"' not in html
    assert "No old names lead here." in html


def test_admin_collaborator_sees_no_form(client, public_repo, bob):
    factories.CollaboratorFactory(repository=public_repo, user=bob, role="admin")
    html = login(client, bob).get(SETTINGS).content.decode()
    assert "Collaborators" in html
    assert "Rename or transfer" not in html
    assert login(client, bob).post(TRANSFER, {"namespace": "bob", "name": "x"}).status_code == 404


def test_transfer_moves_and_lists_the_old_name(as_alice, public_repo, acme):
    response = as_alice.post(TRANSFER, {"namespace": "acme", "name": "tools/app"}, follow=True)
    assert response.redirect_chain[-1][0] == "/r/acme/tools/app/-/settings/#transfer"
    html = response.content.decode()
    assert "alice/app is now acme/tools/app" in html
    assert "<code>alice/app</code>" in html
    assert Repository.objects.get(pk=public_repo.pk).full_name == "acme/tools/app"


def test_form_errors_are_shown(as_alice, alice, public_repo, acme):
    factories.RepositoryFactory(namespace=acme.namespace, name="app")
    response = as_alice.post(TRANSFER, {"namespace": "acme", "name": "app"})
    assert response.status_code == 200
    assert "A repository with this name already exists." in response.content.decode()
    response = as_alice.post(TRANSFER, {"namespace": "acme", "name": "Not Valid"})
    assert "has-error" in response.content.decode()
    response = as_alice.post(TRANSFER, {"namespace": "bob", "name": "app"})  # not offered
    assert "Select a valid choice" in response.content.decode()
    assert Repository.objects.get(pk=public_repo.pk).full_name == "alice/app"


def test_owner_removes_an_old_name(as_alice, client, public_repo, acme):
    as_alice.post(TRANSFER, {"namespace": "acme", "name": "app"})
    redirect = RepositoryRedirect.objects.get()
    url = f"/r/acme/app/-/settings/redirects/{redirect.pk}/delete/"
    response = as_alice.post(url, follow=True)
    assert "alice/app no longer leads here." in response.content.decode()
    assert not RepositoryRedirect.objects.exists()
    assert client.get("/r/alice/app/").status_code == 404
    assert as_alice.post(url).status_code == 404


def test_quota_refusal_is_a_form_error(as_alice, public_repo, acme):
    from hub.models import NamespaceQuota
    from tests.registry_api.conftest import image_push

    image_push(as_alice, "alice/app", "v1", layer=b"x" * 100)
    NamespaceQuota.objects.create(namespace=acme.namespace, limit_bytes=50)
    response = as_alice.post(TRANSFER, {"namespace": "acme", "name": "app"})
    assert response.status_code == 200
    assert "quota exceeded for namespace acme" in response.content.decode()
