"""Property-based run of the REST API against its own live OpenAPI schema (schemathesis).

Every operation gets generated requests twice: once with generated path parameters (mostly
404s, which must still be well-formed) and once pointed at real resources of a prepared user,
so bodies and query strings reach the happy paths. Checks: no 5xx, and every answer conforms to
the schema for its status code. Deletes stay on generated parameters so the world survives.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis import GenerationConfig
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

SETUP = r"""
import json
from django.contrib.auth import get_user_model
from hub.models import Collaborator, Comment, Repository
from hub.services.access_tokens import access_token_create
from hub.services.organizations import organization_create, membership_add
from hub.services.teams import team_create, team_member_add, team_repository_grant
from registry_api.models import Manifest, Tag

User = get_user_model()
fuzz = User.objects.create_user("fuzz", password="fuzz-password-1")
buddy = User.objects.create_user("fuzzbuddy", password="fuzz-password-1")
ns = fuzz.namespace
app = Repository.objects.create(namespace=ns, name="app", description="fuzzed")
Repository.objects.create(namespace=ns, name="secret", is_private=True)
Repository.objects.create(namespace=ns, name="tools/nested")
Collaborator.objects.create(repository=app, user=buddy, role="write")
comment = Comment.objects.create(repository=app, author=fuzz, body="first")
org = organization_create(owner=fuzz, name="fuzzorg")
membership_add(organization=org, username="fuzzbuddy", role="member")
team = team_create(organization=org, name="core")
team_member_add(team=team, username="fuzzbuddy")
lib = Repository.objects.create(namespace=org.namespace, name="lib", is_private=True)
team_repository_grant(team=team, repository=lib, role="read")
body = json.dumps({
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                   "digest": "sha256:" + "a" * 64, "size": 1,
                   "platform": {"os": "linux", "architecture": "amd64"}}],
}).encode()
manifest = Manifest.objects.create(
    repository=app, digest="sha256:" + "b" * 64, media_type=json.loads(body)["mediaType"],
    payload=body, size=len(body), total_size=10,
)
Tag.objects.create(repository=app, name="latest", manifest=manifest, pushed_by=fuzz)
token, secret = access_token_create(user=fuzz, label="fuzz", scopes=["repo:admin"])
print(json.dumps({"token": secret, "token_id": str(token.uuid), "comment_id": comment.pk}))
"""


@pytest.fixture(scope="module")
def world(server):
    return json.loads(server.python(SETUP).strip().splitlines()[-1])


@pytest.fixture(scope="module")
def api_schema(server, world):
    return schemathesis.from_uri(
        f"{server.url}/api/v1/schema/?format=json",
        base_url=server.url,
        # Authenticate with our Bearer token only; generated session cookies just earn 400s.
        generation_config=GenerationConfig(with_security_parameters=False),
    )


schema = schemathesis.from_pytest_fixture("api_schema")


def real_path_parameters(path: str, world: dict) -> dict:
    """Point a path at the prepared resources (unknown parameters keep generated values)."""
    if path.startswith("/api/v1/repositories/{namespace}/{name}"):
        return {
            "namespace": "fuzz",
            "name": "app",
            "tag": "latest",
            "comment_id": world["comment_id"],
            "username": "fuzzbuddy",
        }
    if path.startswith("/api/v1/orgs/{name}"):
        return {"name": "fuzzorg", "username": "fuzzbuddy", "team": "core", "repository": "lib"}
    if path.startswith("/api/v1/namespaces/"):
        return {"namespace": "fuzz"}
    if path.startswith("/api/v1/access-tokens/{token_id}"):
        return {"token_id": world["token_id"]}
    return {}


CHECKS = (not_a_server_error, response_schema_conformance)


@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_conform_to_the_schema(case, world):
    headers = {"Authorization": f"Bearer {world['token']}"}
    case.call_and_validate(headers=headers, checks=CHECKS)
    real = real_path_parameters(case.path, world)
    if real and case.method.upper() != "DELETE" and case.path_parameters:
        case.path_parameters = {
            key: real.get(key, value) for key, value in case.path_parameters.items()
        }
        case.call_and_validate(headers=headers, checks=CHECKS)
