"""The registry's normal handshakes leave no django.request warnings; real problems still do.

settings.LOGGING is what Django configured for this test run, so these records go through the
same filter as the server's.
"""

from __future__ import annotations

import logging

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils.log import log_response

from tests.conftest import basic_auth

MISSING_BLOB = "sha256:" + "0" * 64


def _request_warnings(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "django.request"]


@pytest.mark.django_db
def test_a_docker_login_handshake_logs_nothing(client, alice, public_repo, caplog):
    caplog.set_level(logging.INFO)
    challenge = client.get("/v2/")
    assert challenge.status_code == 401
    assert client.get("/v2/", HTTP_AUTHORIZATION=basic_auth("alice")).status_code == 200
    # docker push asks for each blob before uploading it
    probe = client.head(
        f"/v2/alice/app/blobs/{MISSING_BLOB}", HTTP_AUTHORIZATION=basic_auth("alice")
    )
    assert probe.status_code == 404
    assert client.get("/v2/alice/nothing-here/tags/list").status_code in (401, 404)
    assert _request_warnings(caplog) == []


@pytest.mark.django_db
def test_the_portal_and_a_refused_password_are_still_logged(client, alice, caplog):
    caplog.set_level(logging.INFO)
    assert client.get("/no-such-page/").status_code == 404
    refused = client.get(
        "/auth/token?service=dockyard", HTTP_AUTHORIZATION=basic_auth("alice", "wrong")
    )
    assert refused.status_code == 401
    assert _request_warnings(caplog) == ["Not Found: /no-such-page/", "Unauthorized: /auth/token"]


@pytest.mark.parametrize(
    ("path", "status", "logged"),
    [
        ("/v2/alice/app/manifests/latest", 500, True),
        ("/v2/alice/app/blobs/uploads/", 503, True),
        ("/v2/alice/app/manifests/latest", 403, True),
        ("/v2/", 401, False),
        ("/v2/alice/app/blobs/" + MISSING_BLOB, 404, False),
        ("/api/v1/repositories/alice/app/", 401, True),
        ("/v2-not-the-registry/", 404, True),
    ],
)
def test_only_registry_401_and_404_are_left_out(caplog, path, status, logged):
    caplog.set_level(logging.INFO)
    request = RequestFactory().get(path)
    log_response("%s: %s", "Response", path, response=HttpResponse(status=status), request=request)
    assert _request_warnings(caplog) == ([f"Response: {path}"] if logged else [])


def test_log_level_debug_shows_them(caplog):
    caplog.set_level(logging.DEBUG)
    request = RequestFactory().get("/v2/")
    log_response("Unauthorized: %s", "/v2/", response=HttpResponse(status=401), request=request)
    assert _request_warnings(caplog) == ["Unauthorized: /v2/"]
