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
