"""Dockyard as dockerd's `registry-mirrors`: a pull of an image only the upstream holds goes
through the cache, and keeps working from the cache once the upstream is gone.

One reference registry upstream, one Dockyard with MIRROR_UPSTREAM_URL (cache lifetime 0, so
every pull revalidates and the second pull really runs with the upstream down), one dockerd
with `--registry-mirror` pointing at it.
"""

from __future__ import annotations

import threading

import pytest
import requests

from tests.e2e.dockerd import Dockerd
from tests.e2e.images import MiB, build_image
from tests.e2e.server import Server, throwaway_database_url
from tests.mirror.upstream import ReferenceRegistry

IMAGE = "mirrored"
TAG = "1.0"


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    return build_image(
        tmp_path_factory.mktemp("mirror-image"), message="from the mirror", sizes=(MiB,), seed=41
    )


@pytest.fixture(scope="module")
def big_image(tmp_path_factory):
    return build_image(
        tmp_path_factory.mktemp("mirror-big"), message="big", sizes=(16 * MiB,), seed=42
    )


@pytest.fixture(scope="module")
def upstream(tmp_path_factory, image, big_image):
    registry = ReferenceRegistry(tmp_path_factory.mktemp("mirror-upstream")).start()
    registry.image_push(f"library/{IMAGE}", TAG, image)
    registry.image_push("library/big", "1", big_image)
    yield registry
    registry.stop()


@pytest.fixture(scope="module")
def mirror(tmp_path_factory, upstream):
    env = {
        "MIRROR_UPSTREAM_URL": upstream.url,
        "MIRROR_CACHE_TTL_SECONDS": "0",
        "MIRROR_UPSTREAM_CONNECT_TIMEOUT": "2",
    }
    database_url = throwaway_database_url()
    env["DATABASE_URL"] = database_url or (
        f"sqlite:///{tmp_path_factory.mktemp('mirror-db') / 'db.sqlite3'}"
    )
    server = Server(tmp_path_factory.mktemp("mirror-dockyard"), env=env).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def mirror_dockerd(tmp_path_factory, mirror):
    daemon = Dockerd(
        tmp_path_factory.mktemp("mirror-dockerd"), extra_flags=["--registry-mirror", mirror.url]
    ).start()
    yield daemon
    daemon.stop()


def test_concurrent_pulls_of_a_missing_blob_fetch_it_once(mirror, upstream, big_image):
    assert requests.get(f"{mirror.url}/v2/library/big/manifests/1", timeout=30).status_code == 200
    layer = max(big_image.layers, key=lambda layer: layer.size)
    url = f"{mirror.url}/v2/library/big/blobs/{layer.digest}"
    results: list = [None] * 10
    barrier = threading.Barrier(10)

    def pull(index: int) -> None:
        barrier.wait()
        response = requests.get(url, timeout=120)
        results[index] = (response.status_code, len(response.content))

    threads = [threading.Thread(target=pull, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)

    assert results == [(200, layer.size)] * 10, mirror.log()[-3000:]
    assert upstream.count("GET", f"/blobs/{layer.digest}") == 1


def test_docker_pull_of_a_single_component_name_from_the_mirror(dockerd, mirror, image):
    # `docker pull MIRROR/mirrored` (not registry-mirrors): `mirrored` is `library/mirrored`.
    reference = f"{mirror.address}/{IMAGE}:{TAG}"
    dockerd.cli("pull", reference)
    inspected = dockerd.cli("image", "inspect", "--format", "{{.Id}}", reference)
    assert inspected.stdout.strip() == image.image_id
    dockerd.cli("rmi", reference)


def test_docker_pull_through_the_mirror_then_from_the_cache(mirror_dockerd, upstream, image):
    mirror_dockerd.cli("pull", f"{IMAGE}:{TAG}")
    inspected = mirror_dockerd.cli("image", "inspect", "--format", "{{.Id}}", f"{IMAGE}:{TAG}")
    assert inspected.stdout.strip() == image.image_id
    assert upstream.count("GET", f"/v2/library/{IMAGE}/manifests/{TAG}") >= 1

    upstream.stop()
    mirror_dockerd.cli("rmi", f"{IMAGE}:{TAG}")
    mirror_dockerd.cli("pull", f"{IMAGE}:{TAG}")

    inspected = mirror_dockerd.cli("image", "inspect", "--format", "{{.Id}}", f"{IMAGE}:{TAG}")
    assert inspected.stdout.strip() == image.image_id
    run = mirror_dockerd.cli("run", "--rm", "--network", "none", f"{IMAGE}:{TAG}")
    assert run.stdout.strip() == "from the mirror"
