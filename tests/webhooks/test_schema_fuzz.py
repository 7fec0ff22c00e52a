"""Property-based requests to the webhooks endpoints, in-process: no 5xx, schema-true answers."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationConfig
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from hub.credentials import token_hash, token_secret_new
from hub.models import AccessToken
from webhooks.services.hooks import webhook_create

CHECKS = (not_a_server_error, response_schema_conformance)


@pytest.fixture
def world(alice, public_repo, acme, allow_loopback):
    hook = webhook_create(repository=public_repo, actor=alice, name="ci", url="http://127.0.0.1:9/")
    org_hook = webhook_create(organization=acme, actor=alice, name="org", url="http://127.0.0.1:9/")
    secret = token_secret_new()
    AccessToken.objects.create(
        user=alice,
        label="fuzz",
        token_prefix=secret[:8],
        token_hash=token_hash(secret),
        scopes=["repo:admin"],
    )
    return {
        "token": secret,
        "real": {
            "repo": {"namespace": "alice", "name": "app", "webhook_id": hook.pk},
            "org": {"name": "acme", "webhook_id": org_hook.pk},
        },
    }


def _operations():
    from config.wsgi import application

    schema = schemathesis.from_wsgi(
        "/api/v1/schema/?format=json",
        application,
        generation_config=GenerationConfig(with_security_parameters=False),
    )
    return schema.include(path_regex="webhooks")


@pytest.fixture
def keep_connection():
    """Like Django's test client: requests must not close the test transaction's connection."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
def test_webhook_operations_conform(world, keep_connection):
    schema = _operations()
    headers = {"Authorization": f"Bearer {world['token']}"}
    count = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=8,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            case.call_and_validate(headers=headers, checks=CHECKS)
            if case.method.upper() == "DELETE" or not case.path_parameters:
                return
            kind = "org" if "/orgs/" in case.path else "repo"
            real = world["real"][kind]
            case.path_parameters = {k: real.get(k, v) for k, v in case.path_parameters.items()}
            case.call_and_validate(headers=headers, checks=CHECKS)

        run()
        count += 1
    assert count == 16
