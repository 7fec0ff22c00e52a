"""Creating a repository in the browser before its first push: namespaces the caller may create
in, visibility defaulting to DEFAULT_VISIBILITY, form errors (never a 500), then the empty
repository's page with push instructions. The default also rules first pushes and the API."""

from __future__ import annotations

import re

import pytest

from hub.models import Repository
from registry_api.models import ProxyCache
from tests import factories
from tests.conftest import basic_auth
from tests.registry_api.conftest import image_push

pytestmark = pytest.mark.django_db

URL = "/repositories/new/"


def _post(client, **fields):
    data = {"namespace": "alice", "name": "web", "visibility": "public", **fields}
    return client.post(URL, data)


def _errors(response) -> dict:
    assert response.status_code == 200, response.status_code
    return response.context["form"].errors


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.post(URL, {"namespace": "alice", "name": "x"}).status_code == 302
    assert not Repository.objects.exists()


def test_namespaces_are_those_the_caller_may_create_in(client, alice, acme, dave, charlie):
    factories.OrganizationFactory(name="other", owners=[charlie])
    client.force_login(dave)  # a member of acme, not its owner
    choices = [value for value, _ in client.get(URL).context["form"].fields["namespace"].choices]
    assert choices == ["dave", "acme"]
    assert "namespace" in _errors(_post(client, namespace="other"))
    assert "namespace" in _errors(_post(client, namespace="alice"))
    assert "namespace" in _errors(_post(client, namespace="library"))
    assert not Repository.objects.exists()


def test_create_public_and_private(client, alice, acme):
    client.force_login(alice)
    page = client.get(URL + "?namespace=acme")
    html = page.content.decode()
    assert 'value="acme" selected' in html
    assert page.context["form"]["visibility"].initial == "public"

    created = _post(
        client,
        namespace="acme",
        name="tools/builder",
        visibility="private",
        description="Builds things",
        full_description="# Builder",
    )
    assert created.status_code == 302 and created["Location"] == "/r/acme/tools/builder/"
    repository = Repository.objects.get(namespace__name="acme", name="tools/builder")
    assert repository.is_private and repository.description == "Builds things"
    assert repository.full_description == "# Builder"

    detail = client.get(created["Location"]).content.decode()
    assert "No tags yet." in detail
    assert "docker push testserver/acme/tools/builder:latest" in detail
    assert "docker login testserver" in detail

    assert _post(client, name="open").status_code == 302
    assert not Repository.objects.get(namespace__name="alice", name="open").is_private


def test_default_visibility_private_preselects_private(client, settings, alice):
    settings.DEFAULT_VISIBILITY = "private"
    client.force_login(alice)
    assert client.get(URL).context["form"]["visibility"].initial == "private"
    html = client.get(URL).content.decode()
    assert re.search(r'value="private"[^>]* checked', html)
    assert not re.search(r'value="public"[^>]* checked', html)


@pytest.mark.parametrize(
    "name", ["Web", "web/", "-web", "a..b", "we b", "x" * 256, "web\x00", "café"]
)
def test_bad_names_are_form_errors(client, alice, name):
    client.force_login(alice)
    assert "name" in _errors(_post(client, name=name))
    assert not Repository.objects.exists()


def test_taken_and_missing_fields_are_form_errors(client, alice, public_repo):
    client.force_login(alice)
    taken = _errors(_post(client, name="app"))
    assert "already exists" in str(taken["__all__"])
    errors = _errors(client.post(URL, {"namespace": "alice"}))
    assert set(errors) == {"name", "visibility"}
    assert "visibility" in _errors(_post(client, visibility="secret"))
    assert "description" in _errors(_post(client, description="x" * 101))
    assert Repository.objects.count() == 1


def test_a_name_the_pull_through_cache_serves_is_refused(client, alice):
    admin = factories.UserFactory(username="root", is_superuser=True, is_staff=True)
    ProxyCache.objects.create(namespace="hub", upstream_url="https://registry.example")
    factories.OrganizationFactory(name="hub", owners=[])
    client.force_login(admin)
    assert "name" in _errors(_post(client, namespace="hub", name="library/alpine"))
    assert not Repository.objects.filter(namespace__name="hub").exists()


def test_links_to_the_page(client, alice, acme, charlie):
    client.force_login(alice)
    assert f'href="{URL}"' in client.get("/").content.decode()
    assert f'href="{URL}?namespace=acme"' in client.get("/u/acme/").content.decode()
    client.force_login(charlie)
    assert f'href="{URL}?namespace=acme"' not in client.get("/u/acme/").content.decode()


# One default for every way a repository is made


def test_first_push_follows_default_visibility(client, settings, alice):
    image_push(client, "alice/pushed-public", "1")
    assert not Repository.objects.get(name="pushed-public").is_private
    settings.DEFAULT_VISIBILITY = "private"
    image_push(client, "alice/pushed-private", "1")
    assert Repository.objects.get(name="pushed-private").is_private


@pytest.mark.parametrize("content_type", ["json", "form"])
def test_api_create_follows_default_unless_told(client, settings, alice, content_type):
    settings.DEFAULT_VISIBILITY = "private"
    auth = {"HTTP_AUTHORIZATION": basic_auth("alice")}

    def create(**fields):
        data = {"namespace": "alice", **fields}
        if content_type == "json":
            return client.post(
                "/api/v1/repositories/", data, content_type="application/json", **auth
            )
        return client.post("/api/v1/repositories/", data, **auth)

    assert create(name="implied").status_code == 201
    assert Repository.objects.get(name="implied").is_private
    assert create(name="told", is_private=False).status_code == 201
    assert not Repository.objects.get(name="told").is_private
