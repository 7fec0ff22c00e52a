"""The registry:2 walkthrough's first commands with the real docker engine: `docker push
HOST/centos:latest` works for an administrator, is refused at once (no retries) for anyone else
with where they may push, and `centos` and `library/centos` pull the very same image."""

from __future__ import annotations

import re
import time

import pytest
import requests

from tests.conftest import PASSWORD
from tests.e2e.images import build_image


@pytest.fixture(scope="module")
def centos_image(dockerd, images_dir):
    """A small image loaded into the daemon; returns the name `docker load` gave it."""
    image = build_image(images_dir / "layers", message="hello centos", sizes=(256 * 1024,), seed=31)
    archive = image.write_docker_archive(images_dir / "centos.tar", "dockyard-test/centos:latest")
    dockerd.cli("load", "-i", str(archive))
    return "dockyard-test/centos:latest"


def logged_in(dockerd, server, tmp_path_factory, username: str):
    client = dockerd.client(tmp_path_factory.mktemp(f"docker-{username}"))
    client.cli("login", server.address, "-u", username, "--password-stdin", input=PASSWORD)
    return client


@pytest.fixture(scope="module")
def root(dockerd, server, tmp_path_factory):
    server.create_user("root", PASSWORD, superuser=True)
    return logged_in(dockerd, server, tmp_path_factory, "root")


@pytest.fixture(scope="module")
def mallory(dockerd, server, registry_users, tmp_path_factory):
    return logged_in(dockerd, server, tmp_path_factory, "mallory")


@pytest.fixture(scope="module")
def pushed(root, server, centos_image):
    """`docker push HOST/centos:latest` by a superuser; returns the pushed digest."""
    reference = f"{server.address}/centos:latest"
    root.cli("tag", centos_image, reference)
    output = root.cli("push", reference).stdout
    match = re.search(r"latest: digest: (sha256:[0-9a-f]{64})", output)
    assert match, output
    return match.group(1)


def _failed_push(client, reference: str) -> tuple[str, float]:
    started = time.monotonic()
    result = client.cli("push", reference, check=False, timeout=120)
    elapsed = time.monotonic() - started
    assert result.returncode != 0, result.stdout
    return result.stderr.strip(), elapsed


def test_a_non_member_is_denied_at_once_with_where_to_push(mallory, server, centos_image):
    reference = f"{server.address}/centos:mallory"
    mallory.cli("tag", centos_image, reference)
    error, elapsed = _failed_push(mallory, reference)
    assert "requested access to library/centos is denied: you may push to mallory/centos" in error
    assert elapsed < 5, (elapsed, error)
    # Where the message points works.
    own = f"{server.address}/mallory/centos:latest"
    mallory.cli("tag", centos_image, own)
    assert mallory.cli("push", own).returncode == 0


def test_a_private_official_repository_refuses_like_an_absent_one(mallory, server, centos_image):
    server.python(
        "from hub.models import Namespace\n"
        "from hub.services.repositories import repository_create\n"
        "ns = Namespace.objects.get(name='library')\n"
        "if not ns.repositories.filter(name='hidden').exists():\n"
        "    repository_create(namespace=ns, name='hidden', is_private=True)\n"
    )
    answers = []
    for name in ("hidden", "nothing"):
        reference = f"{server.address}/{name}:1"
        mallory.cli("tag", centos_image, reference)
        error, elapsed = _failed_push(mallory, reference)
        assert elapsed < 5, (elapsed, error)
        answers.append(error.replace(name, "NAME"))
    assert answers[0] == answers[1]
    assert "denied" in answers[0]


def test_the_superusers_push_is_listed_by_the_short_name(server, pushed):
    auth = ("root", PASSWORD)
    catalog = requests.get(f"{server.url}/v2/_catalog", auth=auth, timeout=30)
    assert catalog.status_code == 200
    assert "centos" in catalog.json()["repositories"]
    assert "library/centos" not in catalog.json()["repositories"]
    tags = requests.get(f"{server.url}/v2/centos/tags/list", auth=auth, timeout=30)
    assert tags.json() == {"name": "centos", "tags": ["latest"]}
    full = requests.get(f"{server.url}/v2/library/centos/tags/list", auth=auth, timeout=30)
    assert full.json() == {"name": "library/centos", "tags": ["latest"]}


def test_both_names_pull_the_same_digest(mallory, server, pushed):
    digests = []
    for name in ("centos", "library/centos"):
        reference = f"{server.address}/{name}:latest"
        output = mallory.cli("pull", reference).stdout
        match = re.search(r"Digest: (sha256:[0-9a-f]{64})", output)
        assert match, output
        digests.append(match.group(1))
        mallory.cli("rmi", reference)
    assert digests == [pushed, pushed]
