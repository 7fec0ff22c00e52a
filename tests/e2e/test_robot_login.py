"""Robot accounts with the real docker CLI: `docker login -u 'acme+ci'` with the secret the REST
API answered once, a push by a robot with push rights, and a pull-only robot's push refused."""

from __future__ import annotations

import re

import pytest
import requests

API = "/api/v1"


@pytest.fixture(scope="module")
def robots(server, registry_users):
    """Organization acme (owned by alice) with robots `ci` (push on all repositories) and
    `reader` (pull on all repositories), made through the REST API; returns name → secret."""
    owner = requests.Session()
    owner.auth = ("alice", registry_users["alice"])
    made = owner.post(f"{server.url}{API}/orgs/", json={"name": "acme"}, timeout=30)
    assert made.status_code in (201, 400), made.text  # 400: another module made it already
    secrets = {}
    for name, level in (("ci", "push"), ("reader", "pull")):
        owner.delete(f"{server.url}{API}/orgs/acme/robots/{name}/", timeout=30)
        created = owner.post(
            f"{server.url}{API}/orgs/acme/robots/",
            json={"name": name, "permissions": [{"level": level}]},
            timeout=30,
        )
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["name"] == f"acme+{name}"
        secrets[body["name"]] = body["secret"]
        listed = owner.get(f"{server.url}{API}/orgs/acme/robots/{name}/", timeout=30)
        assert body["secret"] not in listed.text
    return secrets


def _login(client, server, username, secret, check=True):
    return client.cli(
        "login", server.address, "-u", username, "--password-stdin", input=secret, check=check
    )


def test_robot_pushes_and_a_pull_only_robot_is_refused(
    dockerd, server, robots, registry_users, platform_images, tmp_path
):
    image, _ = platform_images[0]
    archive = image.write_docker_archive(tmp_path / "small.tar", "dockyard-test/robot:latest")
    writer = dockerd.client(tmp_path / "ci")
    assert "Login Succeeded" in _login(writer, server, "acme+ci", robots["acme+ci"]).stdout
    writer.cli("load", "-i", str(archive))
    reference = f"{server.address}/acme/app:1"
    writer.cli("tag", "dockyard-test/robot:latest", reference)
    output = writer.cli("push", reference).stdout
    assert re.search(r"1: digest: sha256:[0-9a-f]{64}", output), output

    reader = dockerd.client(tmp_path / "reader")
    assert "Login Succeeded" in _login(reader, server, "acme+reader", robots["acme+reader"]).stdout
    writer.cli("rmi", reference)
    pulled = reader.cli("pull", reference)
    assert pulled.returncode == 0
    refused = reader.cli("push", reference, check=False)
    assert refused.returncode != 0
    said = refused.stderr.lower()
    assert "denied" in said or "unauthorized" in said, refused.stderr
    reader.cli("rmi", reference, "dockyard-test/robot:latest", check=False)

    # A wrong secret and a rotated one are refused by docker login.
    stranger = dockerd.client(tmp_path / "stranger")
    assert _login(stranger, server, "acme+ci", "not-the-secret", check=False).returncode != 0
    owner = requests.Session()
    owner.auth = ("alice", registry_users["alice"])
    rotated = owner.post(f"{server.url}{API}/orgs/acme/robots/ci/rotate/", timeout=30)
    assert rotated.status_code == 200, rotated.text
    assert _login(stranger, server, "acme+ci", robots["acme+ci"], check=False).returncode != 0
    assert _login(stranger, server, "acme+ci", rotated.json()["secret"]).returncode == 0
