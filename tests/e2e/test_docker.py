"""The docker CLI against Dockyard: login, push a 4-layer image (one layer 50 MiB), rmi, pull,
run the pulled image, pull by digest. One docker engine and one image build per session."""

from __future__ import annotations

import re

import pytest
import requests

from tests.e2e.tools import registry_token


@pytest.fixture(scope="module")
def docker(dockerd, server, registry_users, tmp_path_factory):
    """The docker CLI logged in to the server as alice."""
    client = dockerd.client(tmp_path_factory.mktemp("docker-alice"))
    result = client.cli(
        "login", server.address, "-u", "alice", "--password-stdin", input=registry_users["alice"]
    )
    assert "Login Succeeded" in result.stdout
    return client


@pytest.fixture(scope="module")
def pushed(docker, server, app_archive):
    """alice/app:1 pushed with `docker push`; returns (reference, manifest digest)."""
    archive, loaded = app_archive
    docker.cli("load", "-i", str(archive))
    reference = f"{server.address}/alice/app:1"
    docker.cli("tag", loaded, reference)
    output = docker.cli("push", reference).stdout
    match = re.search(r"1: digest: (sha256:[0-9a-f]{64}) size: \d+", output)
    assert match, output
    docker.cli("rmi", reference, loaded)
    return reference, match.group(1)


def test_login_with_a_wrong_password_fails(dockerd, server, registry_users, tmp_path):
    client = dockerd.client(tmp_path / "docker-config")
    result = client.cli(
        "login", server.address, "-u", "alice", "--password-stdin", input="wrong", check=False
    )
    assert result.returncode != 0
    assert "unauthorized" in (result.stdout + result.stderr).lower()


def test_push_then_pull_and_run(docker, server, pushed, app_image, registry_users):
    reference, digest = pushed
    # The registry serves what docker pushed: the manifest digest and all four layers.
    token = registry_token(
        server.url, "repository:alice/app:pull", auth=("alice", registry_users["alice"])
    )
    manifest = requests.get(
        f"{server.url}/v2/alice/app/manifests/1",
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.docker.distribution.manifest.v2+json",
        },
        timeout=30,
    )
    assert manifest.status_code == 200, manifest.text
    assert manifest.headers["Docker-Content-Digest"] == digest
    assert len(manifest.json()["layers"]) == len(app_image.layers) >= 3

    docker.cli("pull", reference)
    assert docker.cli("run", "--rm", "--network", "none", reference).stdout == (
        app_image.message + "\n"
    )
    inspected = docker.cli("image", "inspect", "--format", "{{.Id}}", reference).stdout.strip()
    assert inspected == app_image.image_id  # the config survived the round trip byte for byte
    docker.cli("rmi", reference)


def test_pull_by_digest(docker, server, pushed, app_image):
    _, digest = pushed
    by_digest = f"{server.address}/alice/app@{digest}"
    output = docker.cli("pull", by_digest).stdout
    assert digest in output
    assert docker.cli("run", "--rm", "--network", "none", by_digest).stdout.strip() == (
        app_image.message
    )
    docker.cli("rmi", by_digest)


def test_anonymous_pull_of_a_public_repository(dockerd, server, pushed, tmp_path):
    reference, digest = pushed
    anonymous = dockerd.client(tmp_path / "anonymous")
    assert digest in anonymous.cli("pull", reference).stdout
    anonymous.cli("rmi", reference)
