"""Pull rate limits with the real docker CLI: Docker Hub's headers on manifest answers, and
docker's own "toomanyrequests" error once an anonymous client has used its pulls."""

from __future__ import annotations

import pytest
import requests

from tests.e2e.conftest import server_env
from tests.e2e.images import MiB, build_image
from tests.e2e.server import Server, drop_throwaway_database

LIMIT = 4


@pytest.fixture(scope="module")
def limited_server(tmp_path_factory):
    env = server_env(tmp_path_factory, PULL_RATE_LIMIT_ANONYMOUS=f"{LIMIT}/1h")
    instance = Server(tmp_path_factory.mktemp("rate-limited"), env=env)
    instance.start()
    try:
        instance.create_user("pusher", "pusher-password-1")
        yield instance
    finally:
        instance.stop()
        drop_throwaway_database(env["DATABASE_URL"])


def _remaining(server, reference: str) -> int:
    """What the registry says is left, read with a HEAD (which does not count)."""
    head = requests.head(
        f"{server.url}/v2/pusher/app/manifests/{reference}",
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
        timeout=30,
    )
    assert head.status_code == 200, head.status_code
    assert head.headers["ratelimit-limit"] == f"{LIMIT};w=3600"
    assert head.headers["docker-ratelimit-source"] == "127.0.0.1"
    return int(head.headers["ratelimit-remaining"].split(";")[0])


def _push(pusher, server, images_dir, tmp_path, tag: str, seed: int) -> str:
    image = build_image(images_dir / "layers", message=f"rate {tag}", sizes=(1 * MiB,), seed=seed)
    archive = image.write_docker_archive(tmp_path / f"rate-{tag}.tar", f"rate-test/app:{tag}")
    reference = f"{server.address}/pusher/app:{tag}"
    pusher.cli("load", "-i", str(archive))
    pusher.cli("tag", f"rate-test/app:{tag}", reference)
    pusher.cli("push", reference)
    pusher.cli("rmi", reference, f"rate-test/app:{tag}")
    return reference


def test_docker_pull_is_refused_with_toomanyrequests(dockerd, limited_server, images_dir, tmp_path):
    pusher = dockerd.client(tmp_path / "pusher")
    pusher.cli(
        "login", limited_server.address, "-u", "pusher", "--password-stdin",
        input="pusher-password-1",
    )  # fmt: skip
    first = _push(pusher, limited_server, images_dir, tmp_path, "1", seed=41)
    second = _push(pusher, limited_server, images_dir, tmp_path, "2", seed=42)
    assert _remaining(limited_server, "1") == LIMIT

    anonymous = dockerd.client(tmp_path / "anonymous")
    anonymous.cli("pull", first)
    left = _remaining(limited_server, "1")
    assert left < LIMIT  # docker's pull spent GETs, and the HEAD that read it did not
    while left > 0:  # spend the rest of the window
        got = requests.get(f"{limited_server.url}/v2/pusher/app/manifests/1", timeout=30)
        assert got.status_code == 200
        assert got.headers["ratelimit-remaining"] == f"{left - 1};w=3600"
        left -= 1
    refused = anonymous.cli("pull", second, check=False)
    assert refused.returncode != 0
    output = refused.stdout + refused.stderr
    assert "toomanyrequests" in output.lower(), output
    assert "pull rate limit" in output, output
    # The account that signed in has no limit configured: its pulls still work.
    pusher.cli("pull", second)
