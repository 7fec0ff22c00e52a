"""LOG_FORMAT=json and the access log: one JSON object per line with the request id, one access
line per request with its route, user and timing, and never a credential."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from config.logs import JsonFormatter
from config.request_context import RequestIdFilter, request_id_reset, request_id_set
from tests.conftest import basic_auth
from tests.registry_api.conftest import bearer, image_push, pull_access

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.django_db


@pytest.fixture
def json_lines():
    """Records of the root logger (where dockyard.access propagates) as the JSON handler
    writes them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)


def _access(lines) -> list[dict]:
    return [line for line in lines if line["logger"] == "dockyard.access"]


def test_one_json_access_line_per_request(client, alice, public_repo, json_lines):
    image_push(client, "alice/app", "v1")
    headers = bearer("alice", pull_access("alice/app"))
    answer = client.get(
        "/v2/alice/app/manifests/v1",
        HTTP_ACCEPT="application/vnd.oci.image.manifest.v1+json",
        HTTP_X_REQUEST_ID="proxy-id-12345678",
        **headers,
    )
    assert answer.status_code == 200
    [line] = [entry for entry in _access(json_lines()) if entry["route"] == "GetManifest"]
    assert line["method"] == "GET"
    assert line["path"] == "/v2/alice/app/manifests/v1"
    assert line["status"] == 200
    assert line["bytes"] == len(answer.content)
    assert line["user"] == "alice"
    assert line["client"] == "127.0.0.1"
    assert line["request_id"] == "proxy-id-12345678" == answer["X-Request-Id"]
    assert line["level"] == "INFO"
    assert isinstance(line["duration_ms"], float)
    assert line["db_queries"] >= 1
    assert line["time"].endswith("+00:00")
    pushes = [entry["route"] for entry in _access(json_lines())]
    assert pushes.count("PutManifest") == 1 and pushes.count("PutBlobUpload") == 2


def test_a_streamed_blob_is_logged_when_its_body_is_done(client, alice, public_repo, json_lines):
    from registry_api.digests import digest_bytes

    layer = b"x" * 5000
    image_push(client, "alice/app", "v1", layer=layer)
    answer = client.get(
        f"/v2/alice/app/blobs/{digest_bytes(layer)}", **bearer("alice", pull_access("alice/app"))
    )
    assert not [entry for entry in _access(json_lines()) if entry["route"] == "GetBlob"]
    assert b"".join(answer.streaming_content) == layer
    answer.close()
    [line] = [entry for entry in _access(json_lines()) if entry["route"] == "GetBlob"]
    assert line["bytes"] == len(layer)
    assert line["request_id"] == answer["X-Request-Id"]


def test_basic_auth_user_and_portal_routes(client, alice, json_lines):
    client.get("/v2/", HTTP_AUTHORIZATION=basic_auth("alice"))
    client.force_login(alice)
    client.get("/")
    lines = _access(json_lines())
    assert [(entry["route"], entry["user"]) for entry in lines[:1]] == [("Base", "alice")]
    assert lines[1]["user"] == "alice" and lines[1]["route"] != "unresolved"


def test_no_secret_reaches_the_log(client, alice, json_lines, caplog):
    caplog.set_level(logging.DEBUG)
    secret = "sUpErSeCrEt-0123456789"
    client.get(f"/v2/?access_token={secret}", HTTP_AUTHORIZATION=f"Bearer {secret}")
    client.get(f"/auth/token?service=x&password={secret}", HTTP_AUTHORIZATION=basic_auth("alice"))
    client.get(f"/metrics?token={secret}", HTTP_AUTHORIZATION=f"Bearer {secret}")
    text = json.dumps(json_lines()) + caplog.text
    assert secret not in text
    paths = [entry["path"] for entry in _access(json_lines())]
    assert paths == ["/v2/", "/auth/token", "/metrics"]


def test_a_forged_line_cannot_be_injected_through_the_path(client, json_lines, caplog):
    caplog.set_level(logging.INFO, logger="dockyard.access")
    client.get("/v2/x%0A2026-01-01 INFO forged/manifests/latest")
    [line] = _access(json_lines())
    assert "\n" not in line["path"] and "%0A" in line["path"]
    assert all("\n" not in record.getMessage() for record in caplog.records)


def test_access_log_off(client, settings, json_lines):
    from django.test import Client

    settings.ACCESS_LOG = False
    Client().get("/-/healthy")  # a new handler: the middleware reads the setting at start
    assert _access(json_lines()) == []


def test_exceptions_are_one_json_string():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom %s", ("now",), None)
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        record.exc_info = sys.exc_info()
    token = request_id_set("abc12345")
    try:
        line = JsonFormatter().format(record)
    finally:
        request_id_reset(token)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "boom now" and entry["request_id"] == "abc12345"
    assert "ValueError: bad\nthing" in entry["exception"]


def _run(code: str, **env) -> subprocess.CompletedProcess:
    import os

    environment = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**environment, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_django_settings_log_json_lines_on_stderr(tmp_path):
    code = (
        "import django, logging; django.setup();"
        "logging.getLogger('hub').warning('hello %s', 'json')"
    )
    result = _run(code, LOG_FORMAT="json", DATA_DIR=str(tmp_path))
    [line] = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert line["message"] == "hello json" and line["logger"] == "hub"
    assert line["level"] == "WARNING" and line["request_id"] == "-"
    text = _run(code, LOG_FORMAT="text", DATA_DIR=str(tmp_path))
    assert text.stderr.strip().splitlines()[-1] == "hello json"


def test_a_bad_log_format_names_the_variable(tmp_path):
    result = _run("import django; django.setup()", LOG_FORMAT="xml", DATA_DIR=str(tmp_path))
    assert result.returncode != 0 and "LOG_FORMAT" in result.stderr


def test_gunicorn_json_config_turns_its_access_log_off():
    from config.logs import gunicorn_logconfig

    config = gunicorn_logconfig()
    assert config["loggers"]["gunicorn.error"]["propagate"] is False
    assert config["handlers"]["error_console"]["formatter"] == "json"
    assert config["loggers"]["gunicorn.access"]["handlers"] == []
