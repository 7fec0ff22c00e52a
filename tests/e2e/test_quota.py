"""Namespace quotas with the real docker engine: an image pushed under the quota, a second tag of
it free (its layers are stored already), and a bigger image refused at once with the quota
message (DENIED is not retried)."""

from __future__ import annotations

import time

import pytest

from tests.conftest import PASSWORD
from tests.e2e.images import MiB, build_image

pytestmark = pytest.mark.e2e

USER = "quota-owner"


def _stored_bytes(server) -> int:
    return int(
        server.python(
            "from hub.models import Namespace\n"
            "from registry_api.selectors.usage import namespace_stored_bytes\n"
            f"print(namespace_stored_bytes(Namespace.objects.get(name={USER!r})))\n"
        ).split()[-1]  # after the shell's banner
    )


@pytest.fixture(scope="module")
def docker(dockerd, server, tmp_path_factory):
    server.create_user(USER, PASSWORD)
    client = dockerd.client(tmp_path_factory.mktemp("docker-quota"))
    client.cli("login", server.address, "-u", USER, "--password-stdin", input=PASSWORD)
    return client


@pytest.fixture(scope="module")
def small_and_big(dockerd, images_dir):
    small = build_image(images_dir / "layers", message="fits", sizes=(256 * 1024,), seed=61)
    big = build_image(images_dir / "layers", message="too big", sizes=(4 * MiB,), seed=62)
    names = []
    for image, name in ((small, "small"), (big, "big")):
        reference = f"dockyard-test/quota-{name}:latest"
        archive = image.write_docker_archive(images_dir / f"quota-{name}.tar", reference)
        dockerd.cli("load", "-i", str(archive))
        names.append((image, reference))
    return names


def test_a_push_over_quota_is_refused_and_stored_layers_are_free(docker, server, small_and_big):
    (small, small_name), (big, big_name) = small_and_big
    # Room for the small image and 1 MiB more; the big one adds a 4 MiB layer.
    limit = sum(layer.size for layer in small.layers) + MiB
    server.python(
        "from hub.models import Namespace\n"
        "from registry_api.services.quotas import quota_set\n"
        f"quota_set(namespace=Namespace.objects.get(name={USER!r}), limit_bytes={limit},"
        " actor=None)\n"
    )
    target = f"{server.address}/{USER}/app"
    docker.cli("tag", small_name, f"{target}:v1")
    docker.cli("push", f"{target}:v1")
    used = _stored_bytes(server)
    assert 0 < used <= limit

    # The same image under another tag, and in another repository of the namespace: no new bytes.
    docker.cli("tag", small_name, f"{target}:v2")
    docker.cli("push", f"{target}:v2")
    docker.cli("tag", small_name, f"{server.address}/{USER}/copy:v1")
    docker.cli("push", f"{server.address}/{USER}/copy:v1")
    assert _stored_bytes(server) == used

    docker.cli("tag", big_name, f"{target}:big")
    started = time.monotonic()
    result = docker.cli("push", f"{target}:big", check=False, timeout=120)
    elapsed = time.monotonic() - started
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert f"quota exceeded for namespace {USER}: " in output
    assert "limit" in output and "Retrying" not in output
    assert elapsed < 20, (elapsed, output)
    # Nothing over the limit was stored (the big image's small layers may have fitted).
    assert _stored_bytes(server) <= limit
