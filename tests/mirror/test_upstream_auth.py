"""Authenticating to the upstream: htpasswd Basic auth (reference registry), and the Bearer token
challenge, anonymous or with credentials (fake upstream with a token endpoint)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from django.db import connection

from registry_api.models import ProxyCache
from tests.mirror.conftest import UPSTREAM_USER
from tests.mirror.fake_upstream import FakeUpstream

pytestmark = pytest.mark.django_db


def test_basic_auth_upstream_with_credentials(client, upstream_basic, image_one):
    digest = upstream_basic.image_push("library/guarded", "1", image_one)
    ProxyCache.objects.create(
        namespace="basic",
        upstream_url=upstream_basic.url,
        username=UPSTREAM_USER[0],
        password=UPSTREAM_USER[1],
    )

    response = client.get("/v2/basic/library/guarded/manifests/1")

    assert response.status_code == 200, response.content
    assert response["Docker-Content-Digest"] == digest


def test_basic_auth_upstream_without_credentials_holds_nothing(client, upstream_basic, image_one):
    upstream_basic.image_push("library/closed", "1", image_one)
    ProxyCache.objects.create(namespace="nocreds", upstream_url=upstream_basic.url)

    response = client.get("/v2/nocreds/library/closed/manifests/1")

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "NAME_UNKNOWN"


@pytest.mark.parametrize("credentials", [None, ("robot", "s3cret")])
def test_bearer_token_upstream(client, credentials):
    upstream = FakeUpstream(bearer=True, token_credentials=credentials).start()
    try:
        digest = upstream.manifest("library/tok", "1", [b"{}", b"layer"])
        username, password = credentials or ("", "")
        ProxyCache.objects.create(
            namespace="tok", upstream_url=upstream.url, username=username, password=password
        )

        for _ in range(2):
            response = client.get("/v2/tok/library/tok/manifests/1")
            assert response.status_code == 200, response.content
            assert response["Docker-Content-Digest"] == digest
        assert upstream.requests["GET /token"] == 1  # the token is reused
    finally:
        upstream.stop()


def test_bearer_token_refused_means_unknown(client):
    upstream = FakeUpstream(bearer=True, token_credentials=("robot", "s3cret")).start()
    try:
        upstream.manifest("library/tok", "1", [b"{}", b"layer"])
        ProxyCache.objects.create(
            namespace="tok", upstream_url=upstream.url, username="robot", password="wrong"
        )
        response = client.get("/v2/tok/library/tok/manifests/1")
        assert response.status_code == 404
    finally:
        upstream.stop()


@pytest.mark.django_db(transaction=True)
def test_skopeo_inspect_through_the_cache_matches_the_upstream(
    live_server, upstream, image_one, tmp_path
):
    if shutil.which("skopeo") is None:
        pytest.skip("skopeo is not installed")
    digest = upstream.image_push("tools/inspected", "2.0", image_one)
    ProxyCache.objects.create(namespace="hub", upstream_url=upstream.url)
    host = live_server.url.removeprefix("http://")

    result = subprocess.run(
        [
            "skopeo",
            "inspect",
            "--tls-verify=false",
            "--format",
            "{{.Digest}}",
            f"docker://{host}/hub/tools/inspected:2.0",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == digest


@pytest.mark.django_db(transaction=True)
def test_skopeo_copy_through_the_cache(live_server, upstream, image_one, tmp_path):
    if shutil.which("skopeo") is None:
        pytest.skip("skopeo is not installed")
    if connection.vendor == "sqlite":
        # skopeo fetches layers in parallel; the in-memory test database refuses concurrent
        # writers ("table is locked"). The e2e test pulls in parallel on a real database.
        pytest.skip("needs a database that takes concurrent writers")
    upstream.image_push("tools/copied", "2.0", image_one)
    ProxyCache.objects.create(namespace="hub", upstream_url=upstream.url)
    host = live_server.url.removeprefix("http://")
    copied = subprocess.run(
        [
            "skopeo",
            "copy",
            "--src-tls-verify=false",
            f"docker://{host}/hub/tools/copied:2.0",
            f"oci:{tmp_path / 'copy'}:x",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert copied.returncode == 0, copied.stderr
    config = image_one.config_digest.split(":")[1]
    assert (
        tmp_path / "copy" / "blobs" / "sha256" / config
    ).read_bytes() == image_one.config_bytes()
