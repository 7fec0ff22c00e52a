"""A private repository and an absent one cost an anonymous caller the same work (no timing
oracle): the same queries, in number and in kind."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry_api.models import ProxyCache

pytestmark = pytest.mark.django_db


def queries(client, path: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 401
    # The same statements up to the literal values (the names differ).
    return [re.sub(r"'[^']*'|\b\d+\b", "?", query["sql"]) for query in captured.captured_queries]


@pytest.mark.parametrize("mirror", ["none", "proxy-cache", "mirror-mode"])
def test_private_and_absent_tags_list_run_the_same_queries(client, settings, private_repo, mirror):
    if mirror == "proxy-cache":
        ProxyCache.objects.create(namespace="hub", upstream_url="http://127.0.0.1:9")
    if mirror == "mirror-mode":
        settings.MIRROR_UPSTREAM_URL = "http://127.0.0.1:9"
    client.get("/v2/")  # warm-up outside the counted requests
    hidden = queries(client, "/v2/alice/secret/tags/list")
    absent = queries(client, "/v2/alice/nothing/tags/list")
    assert hidden == absent
    assert len(hidden) >= 1


def test_old_name_of_a_private_repository_costs_what_an_absent_name_does(client, alice, acme):
    """A moved private repository's old name answers anonymous callers like an unknown one,
    with the same queries (hub.permissions.redirect_access)."""
    from hub.models import Namespace, Repository
    from hub.services.transfers import repository_transfer

    moved = Repository.objects.create(namespace=alice.namespace, name="gone", is_private=True)
    repository_transfer(
        repository=moved, namespace=Namespace.objects.get(name="acme"), name="gone", actor=alice
    )
    client.get("/v2/")
    assert queries(client, "/v2/alice/gone/tags/list") == queries(
        client, "/v2/alice/nothing/tags/list"
    )
