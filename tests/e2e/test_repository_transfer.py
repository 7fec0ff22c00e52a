"""Renaming a repository with the real docker CLI: alice pushes alice/moving, moves it into her
organization as movers/moved, and `docker pull` of both names works (the old one through the
redirect, answered with deprecation headers); a push to the old name is refused naming the new
one; once alice removes the redirect, the old name is unknown to docker."""

from __future__ import annotations

import re

import pytest
import requests

from tests.e2e.tools import registry_token

API = "/api/v1"
OLD, NEW = "alice/moving", "movers/moved"


@pytest.fixture(scope="module")
def owner(server, registry_users):
    session = requests.Session()
    session.auth = ("alice", registry_users["alice"])
    return session


@pytest.fixture(scope="module")
def docker(dockerd, server, registry_users, tmp_path_factory):
    client = dockerd.client(tmp_path_factory.mktemp("docker-transfer"))
    result = client.cli(
        "login", server.address, "-u", "alice", "--password-stdin", input=registry_users["alice"]
    )
    assert "Login Succeeded" in result.stdout
    return client


def test_old_name_pulls_until_the_redirect_is_removed(
    docker, server, owner, app_archive, app_image
):
    archive, loaded = app_archive
    docker.cli("load", "-i", str(archive))
    old_ref, new_ref = f"{server.address}/{OLD}:1", f"{server.address}/{NEW}:1"
    docker.cli("tag", loaded, old_ref)
    output = docker.cli("push", old_ref).stdout
    digest = re.search(r"1: digest: (sha256:[0-9a-f]{64})", output).group(1)
    docker.cli("rmi", old_ref)

    made = owner.post(f"{server.url}{API}/orgs/", json={"name": "movers"}, timeout=30)
    assert made.status_code == 201, made.text
    moved = owner.post(
        f"{server.url}{API}/repositories/{OLD}/transfer/",
        json={"namespace": "movers", "name": "moved"},
        timeout=30,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["full_name"] == NEW

    # Both names pull the same image; the old one says where it went.
    assert digest in docker.cli("pull", old_ref).stdout
    assert docker.cli("run", "--rm", "--network", "none", old_ref).stdout == (
        app_image.message + "\n"
    )
    assert digest in docker.cli("pull", new_ref).stdout
    token = registry_token(server.url, f"repository:{OLD}:pull", auth=owner.auth)
    answer = requests.get(
        f"{server.url}/v2/{OLD}/manifests/1",
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.docker.distribution.manifest.v2+json",
        },
        timeout=30,
    )
    assert answer.status_code == 200
    assert answer.headers["Deprecation"] == "true"
    assert f"</v2/{NEW}/manifests/1>" in answer.headers["Link"]
    # The old name's pages and API answer with redirects.
    page = requests.get(f"{server.url}/r/{OLD}/", allow_redirects=False, timeout=30)
    assert (page.status_code, page.headers["Location"]) == (301, f"/r/{NEW}/")

    # A push to the old name is refused, and docker shows where to push instead.
    refused = docker.cli("push", old_ref, check=False)
    assert refused.returncode != 0
    assert NEW in refused.stdout + refused.stderr

    redirects = owner.get(f"{server.url}{API}/repositories/{NEW}/redirects/", timeout=30).json()
    assert [entry["full_name"] for entry in redirects] == [OLD]
    removed = owner.delete(
        f"{server.url}{API}/repositories/{NEW}/redirects/{redirects[0]['id']}/", timeout=30
    )
    assert removed.status_code == 204
    docker.cli("rmi", old_ref, new_ref)
    gone = docker.cli("pull", old_ref, check=False)
    assert gone.returncode != 0
    assert re.search(r"not found|unknown|does not exist", gone.stdout + gone.stderr, re.I)
    assert digest in docker.cli("pull", new_ref).stdout
    docker.cli("rmi", new_ref, loaded)
