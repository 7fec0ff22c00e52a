"""Security headers and cookies: CSP on the UI and the API; HSTS and Secure cookies over TLS."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _directives(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    parts = (part.strip().split() for part in header.split(";") if part.strip())
    return {part[0]: part[1:] for part in parts}


def _script_sources(policy: dict[str, list[str]]) -> list[str]:
    return policy.get("script-src", policy["default-src"])


@pytest.mark.parametrize(
    "url", ["/", "/search/?q=app", "/accounts/login/", "/r/alice/app/", "/api/v1/repositories/"]
)
def test_pages_and_api_send_a_strict_content_security_policy(client, public_repo, url):
    response = client.get(url, follow=True)
    assert response.status_code == 200
    policy = _directives(response)
    assert policy["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in _script_sources(policy)
    assert "'unsafe-eval'" not in _script_sources(policy)
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]


def test_a_readme_image_from_another_host_is_not_loaded(client, public_repo):
    public_repo.full_description = "![pixel](https://tracker.example/p.gif?reader=1)"
    public_repo.save()
    response = client.get("/r/alice/app/")
    # Rendered as written; the browser refuses to fetch it: images only from this origin.
    assert _directives(response)["img-src"] == ["'self'", "data:"]
    assert "tracker.example" not in response.headers["Content-Security-Policy"]


def test_the_api_docs_page_runs_without_inline_script_or_style(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<style" not in html
    scripts = re.findall(r"<script([^>]*)>", html)
    assert scripts and all("src=" in attributes for attributes in scripts)
    start = re.findall(r'<script src="([^"]*script=[^"]*)"', html)
    assert start, html
    script = client.get(start[0].replace("&amp;", "&"))
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


TEMPLATE_COMMENT = re.compile(r"{#.*?#}|{% comment %}.*?{% endcomment %}", re.DOTALL)
INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=|javascript:", re.IGNORECASE
)


def test_templates_have_no_inline_script_style_or_handlers():
    offenders = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in sorted((ROOT / "templates").rglob("*.html"))
        for match in INLINE.finditer(TEMPLATE_COMMENT.sub("", path.read_text()))
    ]
    assert offenders == []


SETTINGS_PROBE = """
import json, os
import django
django.setup()
from django.conf import settings
from django.test import Client
settings.ALLOWED_HOSTS = ["testserver"]
from django.core.files.storage import storages
settings.STORAGES = {**settings.STORAGES, "staticfiles": {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
# The avatar field resolved its storage at import, so the handler read STORAGES already.
storages._backends = None
storages.__dict__.pop("backends", None)
storages._storages = {}
response = Client().get("/accounts/login/", secure=True)
print(json.dumps({
    "status": response.status_code,
    "csrf_secure": bool(response.cookies["csrftoken"]["secure"]),
    "session_secure": settings.SESSION_COOKIE_SECURE,
    "hsts": response.headers.get("Strict-Transport-Security", ""),
}))
"""


def _probe(tmp_path, **env: str) -> dict:
    environment = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        **env,
    }
    result = subprocess.run(
        [sys.executable, "-c", SETTINGS_PROBE],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("env", [{"TLS_CERT": "/etc/dockyard/cert.pem"}, {"BEHIND_PROXY": "true"}])
def test_cookies_are_secure_and_hsts_is_sent_when_served_over_tls(tmp_path, env):
    probe = _probe(tmp_path, **env)
    assert probe["status"] == 200
    assert probe["csrf_secure"] and probe["session_secure"]
    assert probe["hsts"].startswith("max-age=31536000")


def test_plain_http_keeps_cookies_usable(tmp_path):
    probe = _probe(tmp_path)
    assert probe["status"] == 200
    assert not probe["csrf_secure"] and not probe["session_secure"] and probe["hsts"] == ""
