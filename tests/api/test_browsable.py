"""The browsable API (session users with a browser) renders every list and detail page."""

import pytest

from tests.api.conftest import API


@pytest.mark.parametrize(
    "path",
    [
        "repositories/",
        "repositories/alice/app/",
        "repositories/alice/app/tags/",
        "repositories/alice/app/comments/",
        "orgs/",
        "access-tokens/",
        "users/me/",
        "search/?q=a",
        "namespaces/alice/",
        "repositories/alice/app/collaborators/",
        "orgs/acme/members/",
        "repositories/nope/x/",
    ],
)
def test_api_pages_render_as_browsable_html_when_asked(client, alice, tagged, acme, path):
    client.force_login(alice)
    r = client.get(f"{API}/{path}", HTTP_ACCEPT="text/html")
    assert r.status_code in (200, 404), r.content[:500]
    assert b"<html" in r.content.lower()[:2000] or r.status_code == 404
