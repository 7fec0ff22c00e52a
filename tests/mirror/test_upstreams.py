"""Which upstream serves a name, and how its auth challenges read."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from hub.models import Namespace
from hub.permissions import repository_access
from registry_api.models import ProxyCache
from registry_api.proxy.client import challenge_parse
from registry_api.proxy.upstreams import upstream_for
from tests.factories import OrganizationFactory, RepositoryFactory

pytestmark = pytest.mark.django_db


def proxy_applies(full_name: str) -> bool:
    return repository_access(AnonymousUser(), full_name).mirrored


def test_namespaced_cache_strips_its_namespace():
    ProxyCache.objects.create(namespace="ghcr", upstream_url="https://ghcr.io", cache_ttl_seconds=9)
    upstream = upstream_for("ghcr/owner/tool")
    assert upstream.remote_name == "owner/tool"
    assert upstream.ttl_seconds == 9
    assert upstream.reference == "ghcr.io/owner/tool"
    assert upstream_for("ghcr") is None


def test_docker_hub_official_images_get_library():
    ProxyCache.objects.create(namespace="hub", upstream_url="https://registry-1.docker.io")
    assert upstream_for("hub/alpine").remote_name == "library/alpine"
    assert upstream_for("hub/bitnami/redis").remote_name == "bitnami/redis"


def test_prefixless_mirror_only_for_unowned_namespaces(settings, alice, acme):
    settings.MIRROR_UPSTREAM_URL = "http://upstream.example:5000"
    assert upstream_for("library/alpine").remote_name == "library/alpine"
    assert upstream_for("alice/anything") is None  # a user's namespace
    assert upstream_for("acme/anything") is None  # an organization with members
    OrganizationFactory(name="bitnami")  # no members: the mirror's own kind of namespace
    assert upstream_for("bitnami/redis") is not None


def test_local_repositories_win(settings, alice):
    settings.MIRROR_UPSTREAM_URL = "http://upstream.example:5000"
    library = Namespace.objects.get(name="library")  # created by migrate
    RepositoryFactory(namespace=library, name="local")
    RepositoryFactory(namespace=library, name="cached", mirror_of="upstream/x")
    assert not proxy_applies("library/local")
    assert proxy_applies("library/cached")
    assert proxy_applies("library/new")
    assert not proxy_applies("not a name")


def test_no_upstream_configured():
    assert upstream_for("library/alpine") is None
    assert not proxy_applies("library/alpine")


def test_challenge_parse_splits_the_scheme_and_quoted_parameters():
    scheme, params = challenge_parse(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:library/alpine:pull"'
    )
    assert scheme == "bearer"
    assert params == {
        "realm": "https://auth.docker.io/token",
        "service": "registry.docker.io",
        "scope": "repository:library/alpine:pull",
    }
    assert challenge_parse('Basic realm="upstream"') == ("basic", {"realm": "upstream"})
    assert challenge_parse("") == ("", {})
