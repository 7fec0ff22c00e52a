"""`GET /v2/<name>/tags/list`: byte-ordered names, `n`/`last` pagination and the Link header."""

from __future__ import annotations

import pytest

from registry_api.manifests import OCI_INDEX
from tests.registry_api.conftest import bearer, pull_access, push_access
from tests.registry_api.test_manifests import dumps, manifest_put

pytestmark = pytest.mark.django_db

TAGS = ["v1.9", "latest", "B", "v1.10", "a", "A", "b1", "v1.0"]
BYTE_ORDER = ["A", "B", "a", "b1", "latest", "v1.0", "v1.10", "v1.9"]


@pytest.fixture
def tagged(client, public_repo):
    headers = bearer("alice", push_access("alice/app"))
    body = dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []})
    for tag in TAGS:
        assert manifest_put(client, "alice/app", tag, body, headers, OCI_INDEX).status_code == 201
    return bearer("charlie", pull_access("alice/app"))


def test_all_tags_in_byte_order(client, tagged):
    response = client.get("/v2/alice/app/tags/list", **tagged)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"name": "alice/app", "tags": BYTE_ORDER}
    assert "Link" not in response


def test_pagination_follows_the_link_header(client, tagged):
    seen, url = [], "/v2/alice/app/tags/list?n=3"
    while url:
        response = client.get(url, **tagged)
        assert response.status_code == 200
        page = response.json()["tags"]
        assert len(page) <= 3
        seen += page
        link = response.get("Link")
        url = link[1 : link.index(">")] if link else ""
        if link:
            assert link.endswith('>; rel="next"')
            assert link.startswith("</v2/alice/app/tags/list?n=3&last=")
    assert seen == BYTE_ORDER


def test_first_page_link_is_exact(client, tagged):
    response = client.get("/v2/alice/app/tags/list?n=2", **tagged)
    assert response.json()["tags"] == ["A", "B"]
    assert response["Link"] == '</v2/alice/app/tags/list?n=2&last=B>; rel="next"'
    last = client.get("/v2/alice/app/tags/list?n=2&last=v1.0", **tagged)
    assert last.json()["tags"] == ["v1.10", "v1.9"]
    assert "Link" not in last


def test_last_alone_and_n_zero(client, tagged):
    after = client.get("/v2/alice/app/tags/list?last=latest", **tagged)
    assert after.json()["tags"] == ["v1.0", "v1.10", "v1.9"]
    assert "Link" not in after
    empty = client.get("/v2/alice/app/tags/list?n=0", **tagged)
    assert empty.json() == {"name": "alice/app", "tags": []}
    nul = client.get("/v2/alice/app/tags/list?last=latest%00", **tagged)
    assert nul.json()["tags"] == ["v1.0", "v1.10", "v1.9"]
    beyond = client.get("/v2/alice/app/tags/list?last=zzz", **tagged)
    assert beyond.json()["tags"] == []


@pytest.mark.parametrize("n", ["-1", "abc", "1.5", "１", "²", "0x10"])
def test_bad_n_is_pagination_number_invalid(client, tagged, n):
    response = client.get(f"/v2/alice/app/tags/list?n={n}", **tagged)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "PAGINATION_NUMBER_INVALID"


def test_huge_n_is_clamped(client, tagged):
    response = client.get("/v2/alice/app/tags/list?n=" + "9" * 5000, **tagged)
    assert response.status_code == 200
    assert response.json()["tags"] == BYTE_ORDER


def test_empty_repository_and_unknown_repository(client, public_repo, alice):
    response = client.get("/v2/alice/app/tags/list", **bearer("alice", pull_access("alice/app")))
    assert response.json() == {"name": "alice/app", "tags": []}
    absent = client.get(
        "/v2/alice/absent/tags/list", **bearer("alice", pull_access("alice/absent"))
    )
    assert absent.status_code == 404
    assert absent.json()["errors"][0]["code"] == "NAME_UNKNOWN"


def test_private_repository_tags_look_absent(client, private_repo, charlie):
    hidden = client.get("/v2/alice/secret/tags/list", **bearer("charlie", []))
    absent = client.get("/v2/alice/nothing/tags/list", **bearer("charlie", []))
    assert hidden.status_code == absent.status_code == 401
    assert hidden.content == absent.content
    collaborator = client.get(
        "/v2/alice/secret/tags/list", **bearer("bob", pull_access("alice/secret"))
    )
    assert collaborator.json() == {"name": "alice/secret", "tags": []}
