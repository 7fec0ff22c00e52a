"""Official images (`library/<name>`) are shown by the name clients write, `centos`, on every
page, in the REST API and in `docker search`; the full name still finds them."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from hub.models import Namespace
from hub.names import OFFICIAL_NAMESPACE
from tests.factories import RepositoryFactory
from tests.web.conftest import image_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def centos(db):
    library = Namespace.objects.get(name=OFFICIAL_NAMESPACE)
    repository = RepositoryFactory(namespace=library, name="centos", description="The CentOS")
    image_create(repository, "latest")
    return repository


@pytest.fixture
def nested(db):
    library = Namespace.objects.get(name=OFFICIAL_NAMESPACE)
    return RepositoryFactory(namespace=library, name="tools/cli", description="nested")


def test_display_name(centos, nested, public_repo):
    assert centos.display_name == "centos"
    assert nested.display_name == "library/tools/cli"
    assert public_repo.display_name == "alice/app"


def test_repository_page_shows_the_short_name(client, centos):
    page = client.get("/r/library/centos/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<title>centos" in html
    assert "docker pull testserver/centos" in html
    assert "docker pull testserver/library/centos" not in html
    assert 'class="ns">library</a>' not in html
    tag = client.get("/r/library/centos/-/tags/latest/").content.decode()
    assert "docker pull testserver/centos:latest" in tag


def test_other_repositories_keep_their_namespace(client, public_repo, nested):
    html = client.get("/r/alice/app/").content.decode()
    assert 'class="ns">alice</a>' in html
    assert "docker pull testserver/alice/app" in html
    assert (
        "docker pull testserver/library/tools/cli"
        in client.get("/r/library/tools/cli/").content.decode()
    )


@pytest.mark.parametrize("query", ["centos", "cent", "library/centos"])
def test_search_finds_it_and_cards_show_the_short_name(client, centos, query):
    html = client.get("/search/", {"q": query}).content.decode()
    assert '<a href="/r/library/centos/">centos</a>' in html
    explore = client.get("/").content.decode()
    assert '<a href="/r/library/centos/">centos</a>' in explore


def test_the_library_profile_lists_it_by_its_short_name(client, centos):
    html = client.get("/u/library/").content.decode()
    assert '<a href="/r/library/centos/">centos</a>' in html


def test_rest_api_adds_the_display_name_and_looks_up_the_full_name(centos, public_repo):
    api = APIClient()
    detail = api.get("/api/v1/repositories/library/centos/").json()
    assert detail["namespace"] == "library"
    assert detail["name"] == "centos"
    assert detail["full_name"] == "library/centos"
    assert detail["display_name"] == "centos"
    assert detail["pull_command"] == "docker pull testserver/centos"
    listing = api.get("/api/v1/repositories/", {"q": "centos"}).json()["results"]
    assert [r["display_name"] for r in listing] == ["centos"]
    other = api.get("/api/v1/repositories/alice/app/").json()
    assert other["display_name"] == other["full_name"] == "alice/app"


def test_docker_search_answers_the_short_name(client, centos, public_repo):
    results = client.get("/v1/search", {"q": "centos"}).json()["results"]
    assert [r["name"] for r in results] == ["centos"]
    results = client.get("/v1/search", {"q": "app"}).json()["results"]
    assert [r["name"] for r in results] == ["alice/app"]
