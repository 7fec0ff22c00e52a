"""The OpenAPI schema documents every REST route and generates without warnings."""

from __future__ import annotations

import yaml
from django.core.management import call_command

from tests.api.conftest import API


def test_schema_generates_cleanly(tmp_path):
    # --fail-on-warn: an unresolvable serializer or authenticator would make the schema lie.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))
    schema = yaml.safe_load((tmp_path / "s.yml").read_text())
    assert schema["openapi"].startswith("3.")
    assert f"{API}/repositories/" in schema["paths"]


def test_schema_and_docs_are_served(api, db):
    schema = api.get(f"{API}/schema/", {"format": "json"}).json()
    for path in (
        "/api/v1/repositories/{namespace}/{name}/tags/{tag}/",
        "/api/v1/orgs/{name}/members/{username}/",
        "/api/v1/access-tokens/{token_id}/",
        "/api/v1/search/",
    ):
        assert path in schema["paths"]
    assert {"accessToken", "basicAuth"} <= set(schema["components"]["securitySchemes"])
    assert api.get(f"{API}/docs/").status_code == 200
