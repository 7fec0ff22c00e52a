"""`GET /v2/_catalog`: visible repositories only, byte order, `n`/`last` and Link."""

from __future__ import annotations

import pytest

from hub.models import Namespace
from tests import factories
from tests.conftest import basic_auth
from tests.registry_api.conftest import bearer

pytestmark = pytest.mark.django_db

CATALOG = [{"type": "registry", "name": "catalog", "actions": ["*"]}]


@pytest.fixture
def repositories(public_repo, private_repo, acme, bob):
    factories.RepositoryFactory(namespace=public_repo.namespace, name="tools/cli")
    factories.RepositoryFactory(namespace=bob.namespace, name="zeta")
    factories.RepositoryFactory(namespace=bob.namespace, name="hidden", is_private=True)
    factories.RepositoryFactory(namespace=acme.namespace, name="web")


def test_anonymous_sees_public_repositories_only(client, repositories):
    response = client.get("/v2/_catalog", **bearer("", CATALOG))
    assert response.status_code == 200
    assert response.json() == {
        "repositories": ["acme/web", "alice/app", "alice/tools/cli", "bob/zeta"]
    }


def test_each_user_sees_what_they_may_view(client, repositories, charlie):
    alice = client.get("/v2/_catalog", **bearer("alice", CATALOG)).json()["repositories"]
    assert alice == ["acme/web", "alice/app", "alice/secret", "alice/tools/cli", "bob/zeta"]
    bob = client.get("/v2/_catalog", **bearer("bob", CATALOG)).json()["repositories"]
    assert bob == [
        "acme/web",
        "alice/app",
        "alice/secret",
        "alice/tools/cli",
        "bob/hidden",
        "bob/zeta",
    ]
    charlie = client.get("/v2/_catalog", HTTP_AUTHORIZATION=basic_auth("charlie"))
    assert charlie.json()["repositories"] == [
        "acme/web",
        "alice/app",
        "alice/tools/cli",
        "bob/zeta",
    ]


def test_pagination_and_link(client, repositories):
    headers = bearer("alice", CATALOG)
    first = client.get("/v2/_catalog?n=2", **headers)
    assert first.json() == {"repositories": ["acme/web", "alice/app"]}
    assert first["Link"] == '</v2/_catalog?n=2&last=alice%2Fapp>; rel="next"'
    second = client.get("/v2/_catalog?n=2&last=alice%2Fapp", **headers)
    assert second.json() == {"repositories": ["alice/secret", "alice/tools/cli"]}
    third = client.get("/v2/_catalog?n=2&last=alice%2Ftools%2Fcli", **headers)
    assert third.json() == {"repositories": ["bob/zeta"]}
    assert "Link" not in third
    assert client.get("/v2/_catalog?n=0", **headers).json() == {"repositories": []}
    nul = client.get("/v2/_catalog?last=bob%2Fzeta%00", **headers)
    assert nul.json() == {"repositories": []}


def test_negative_n_is_pagination_number_invalid(client, repositories):
    response = client.get("/v2/_catalog?n=-5", **bearer("alice", CATALOG))
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "PAGINATION_NUMBER_INVALID"


def test_catalog_needs_the_catalog_grant(client, repositories):
    response = client.get("/v2/_catalog", **bearer("alice", []))
    assert response.status_code == 401
    assert 'scope="registry:catalog:*"' in response["WWW-Authenticate"]
    anonymous = client.get("/v2/_catalog")
    assert anonymous.status_code == 401


def test_answers_are_written_as_registry2_writes_them(client, public_repo, alice):
    # `curl -u ... /v2/_catalog` users compare (and grep) the exact text registry:2 printed.
    factories.RepositoryFactory(namespace=Namespace.objects.get(name="library"), name="centos")
    auth = {"HTTP_AUTHORIZATION": basic_auth("alice")}
    assert (
        client.get("/v2/_catalog", **auth).content == b'{"repositories":["alice/app","centos"]}\n'
    )
    assert client.get("/v2/centos/tags/list", **auth).content == b'{"name":"centos","tags":[]}\n'
    assert client.get("/v2/", **auth).content == b"{}\n"
    missing = client.get("/v2/alice/app/manifests/nope", **auth)
    assert missing.status_code == 404 and missing.content.startswith(b'{"errors":[{"code":')
