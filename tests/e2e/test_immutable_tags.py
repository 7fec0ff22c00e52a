"""Immutable tags with the real docker engine: once `v*` is protected, `docker push` of another
image as `v1` fails at once with the rule's message, while `latest` still moves."""

from __future__ import annotations

import re
import time

import pytest
import requests

from tests.conftest import PASSWORD
from tests.e2e.images import build_image

REPOSITORY = "alice/frozen"


def _loaded(dockerd, images_dir, name: str, seed: int) -> str:
    image = build_image(
        images_dir / f"layers-{name}", message=f"immutable {name}", sizes=(64 * 1024,), seed=seed
    )
    archive = image.write_docker_archive(images_dir / f"{name}.tar", f"dockyard-test/{name}:1")
    dockerd.cli("load", "-i", str(archive))
    return f"dockyard-test/{name}:1"


@pytest.fixture(scope="module")
def docker(dockerd, server, registry_users, tmp_path_factory):
    client = dockerd.client(tmp_path_factory.mktemp("docker-immutable"))
    client.cli("login", server.address, "-u", "alice", "--password-stdin", input=PASSWORD)
    return client


def _push(docker, reference: str) -> str:
    output = docker.cli("push", reference).stdout
    match = re.search(r"digest: (sha256:[0-9a-f]{64})", output)
    assert match, output
    return match.group(1)


def test_a_protected_tag_is_not_moved_by_docker_push(docker, dockerd, server, images_dir):
    first = _loaded(dockerd, images_dir, "frozen-one", seed=71)
    second = _loaded(dockerd, images_dir, "frozen-two", seed=72)
    v1, latest = f"{server.address}/{REPOSITORY}:v1", f"{server.address}/{REPOSITORY}:latest"
    for reference in (v1, latest):
        docker.cli("tag", first, reference)
    pushed = _push(docker, v1)
    _push(docker, latest)

    rule = requests.post(
        f"{server.url}/api/v1/repositories/{REPOSITORY}/immutability-rules/",
        json={"pattern": "v*"},
        auth=("alice", PASSWORD),
        timeout=30,
    )
    assert rule.status_code == 201, rule.text

    docker.cli("tag", second, v1)
    started = time.monotonic()
    result = docker.cli("push", v1, check=False, timeout=120)
    elapsed = time.monotonic() - started
    assert result.returncode != 0, result.stdout
    assert f'tag v1 is immutable (rule "v*" on {REPOSITORY}): push a new tag instead' in (
        result.stderr
    ), result.stderr
    assert elapsed < 10, (elapsed, result.stderr)

    # `latest` matches no rule: it moves to the second image.
    docker.cli("tag", second, latest)
    moved = _push(docker, latest)
    assert moved != pushed
    # v1 still is the first image.
    head = requests.head(
        f"{server.url}/v2/{REPOSITORY}/manifests/v1",
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
        auth=("alice", PASSWORD),
        timeout=30,
    )
    assert head.headers["Docker-Content-Digest"] == pushed
