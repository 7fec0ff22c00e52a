"""Hostile input never becomes a server error: wrong types, nulls, NULs, huge numbers, junk."""

from __future__ import annotations

import pytest

from tests import factories
from tests.api.conftest import API

BAD_BODIES = [
    [],
    "string",
    None,
    {"namespace": None, "name": None},
    {"namespace": ["alice"], "name": {"x": 1}},
    {"namespace": "alice", "name": "a\x00b"},
    {"namespace": "alice", "name": "x", "is_private": "perhaps"},
    {"namespace": "alice", "name": "x" * 10_000},
    {"body": 12, "role": 3, "username": True, "label": [], "scopes": [None]},
    {"scopes": ["repo:read"] * 1000, "label": "x", "expires_at": "not a date"},
    {"expires_at": "9999-12-31T23:59:59Z", "label": "x", "scopes": ["repo:read"]},
]

WRITE_URLS = [
    ("post", f"{API}/repositories/"),
    ("patch", f"{API}/repositories/alice/app/"),
    ("post", f"{API}/repositories/alice/app/comments/"),
    ("post", f"{API}/repositories/alice/app/collaborators/"),
    ("patch", f"{API}/repositories/alice/app/collaborators/bob/"),
    ("post", f"{API}/orgs/"),
    ("post", f"{API}/orgs/acme/members/"),
    ("patch", f"{API}/orgs/acme/members/dave/"),
    ("post", f"{API}/access-tokens/"),
]


@pytest.fixture
def world(alice, bob, public_repo, acme):
    factories.CollaboratorFactory(repository=public_repo, user=bob, role="read")


@pytest.mark.parametrize(("method", "url"), WRITE_URLS)
def test_bad_bodies_are_client_errors(as_user, alice, world, method, url):
    client = as_user(alice)
    for body in BAD_BODIES:
        response = getattr(client, method)(url, body, format="json")
        assert 200 <= response.status_code < 500, (body, response.content)
    raw = getattr(client, method)(url, b"{not json", content_type="application/json")
    assert raw.status_code == 400
    # A lone surrogate is valid JSON but cannot be stored or encoded.
    fields = ("namespace", "name", "body", "label", "username", "description", "display_name")
    surrogate = ("{" + ", ".join(f'"{f}": "x\\ud800"' for f in fields) + "}").encode()
    lone = getattr(client, method)(url, surrogate, content_type="application/json")
    assert 200 <= lone.status_code < 500, lone.content
    form = getattr(client, method)(url, "a=1", content_type="text/plain")
    assert form.status_code == 415


@pytest.mark.parametrize(
    "path",
    [
        "repositories/ALICE/app/",
        "repositories/alice/app%00/",
        "repositories/alice/" + "a/" * 200,
        "repositories/alice/app/tags/" + "t" * 300 + "/",
        "repositories/alice/app/comments/1e9/",
        "repositories/alice/app/collaborators/%00/",
        "namespaces/%F0%9F%90%B3/",
        "access-tokens/00000000-0000-0000-0000-000000000000/",
        "access-tokens/%00/",
    ],
)
def test_odd_paths_are_404(as_user, alice, world, path):
    assert as_user(alice).get(f"{API}/{path}").status_code == 404


@pytest.mark.parametrize(
    "params",
    [
        {"page": "0"},
        {"page": "-1"},
        {"page": "1" * 40},
        {"page_size": "0"},
        {"page_size": "-5"},
        {"page_size": "1" * 40},
        {"ordering": "-stars"},
        {"q": "%" * 500},
        {"q": "' OR 1=1 --"},
        {"namespace": "\x00"},
    ],
)
def test_odd_query_strings_on_lists(api, world, params):
    for url in (f"{API}/repositories/", f"{API}/search/", f"{API}/repositories/alice/app/tags/"):
        assert api.get(url, params).status_code in (200, 400, 404)


def test_nul_bytes_in_names_are_404_everywhere(api, as_user, alice, world):
    # On PostgreSQL a NUL in a query parameter is a server error unless the lookup refuses it.
    client = as_user(alice)
    for path in (
        "repositories/%00/x/",
        "repositories/alice/a%00b/tags/",
        "namespaces/%00/",
        "orgs/%00/members/",
    ):
        assert client.get(f"{API}/{path}").status_code == 404


NESTING_BOMBS = [
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    # Under the interpreter's recursion limit, but deeper than any request body needs.
    b"[" * 500 + b"]" * 500,
    b'{"name": ' + b"[" * 200 + b"]" * 200 + b"}",
]


@pytest.mark.parametrize(
    ("method", "url"),
    [
        *WRITE_URLS,
        ("patch", f"{API}/repositories/alice/app/comments/{{comment}}/"),
        ("post", f"{API}/orgs/acme/teams/"),
        ("post", f"{API}/repositories/alice/app/webhooks/"),
    ],
)
def test_json_nesting_bombs_are_parse_errors(as_user, alice, world, public_repo, method, url):
    comment = factories.CommentFactory(repository=public_repo, author=alice)
    url = url.replace("{comment}", str(comment.pk))
    client = as_user(alice)
    for body in NESTING_BOMBS:
        response = getattr(client, method)(url, body, content_type="application/json")
        assert response.status_code == 400, (url, body[:20], response.content[:200])
        assert response.json()["detail"].startswith("JSON parse error"), response.content[:200]
