"""docker build with OCI LABELs, docker push: the repository page shows the description and the
source link (filled by the worker after the push), and the compare API tells the two tags apart."""

from __future__ import annotations

import time

import pytest
import requests

from tests.e2e.images import build_image

DESCRIPTION = "Labelled by docker build in the e2e run"
SOURCE = "https://git.example.com/alice/labelled"
BASE = "dockyard-test/labelled-base:latest"


def _dockerfile(directory, text: str):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "Dockerfile").write_text(text)
    (directory / "extra.txt").write_text("a file only v2 has\n")
    return directory


@pytest.fixture(scope="module")
def docker(dockerd, server, registry_users, tmp_path_factory):
    """alice's docker CLI with the classic builder (no buildx plugin on the test machines)."""
    client = dockerd.client(tmp_path_factory.mktemp("docker-labels"))
    client.env["DOCKER_BUILDKIT"] = "0"
    client.cli(
        "login", server.address, "-u", "alice", "--password-stdin", input=registry_users["alice"]
    )
    return client


@pytest.fixture(scope="module")
def pushed(docker, server, tmp_path_factory):
    """alice/labelled:v1 (the base + labels) and :v2 (one more layer, other labels and env)."""
    directory = tmp_path_factory.mktemp("labelled")
    base = build_image(directory / "layers", message="labelled", sizes=(256 * 1024,), seed=41)
    docker.cli("load", "-i", str(base.write_docker_archive(directory / "base.tar", BASE)))
    repository = f"{server.address}/alice/labelled"
    v1 = _dockerfile(
        directory / "v1",
        f"FROM {BASE}\n"
        f'LABEL org.opencontainers.image.description="{DESCRIPTION}" '
        f'org.opencontainers.image.source="{SOURCE}" org.opencontainers.image.licenses="MIT"\n',
    )
    v2 = _dockerfile(
        directory / "v2",
        f"FROM {BASE}\nCOPY extra.txt /extra.txt\nENV MODE=two\n"
        f'LABEL org.opencontainers.image.description="{DESCRIPTION}" '
        f'org.opencontainers.image.source="{SOURCE}" org.opencontainers.image.version="2"\n',
    )
    for tag, context in (("v1", v1), ("v2", v2)):
        docker.cli("build", "-t", f"{repository}:{tag}", str(context))
        docker.cli("push", f"{repository}:{tag}")
    yield
    docker.cli("rmi", f"{repository}:v1", f"{repository}:v2", BASE, check=False)


def _eventually(check, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def test_repository_page_shows_description_and_source_from_the_labels(server, pushed):
    def shown():
        page = requests.get(f"{server.url}/r/alice/labelled/", timeout=30)
        assert page.status_code == 200
        assert DESCRIPTION in page.text
        assert f'href="{SOURCE}"' in page.text
        return page.text

    page = _eventually(shown)
    assert "MIT" in page  # from v1; v2 has no licence label, so it stays


def test_search_finds_the_repository_by_its_labelled_description(server, pushed):
    def found():
        answer = requests.get(
            f"{server.url}/api/v1/search/", params={"q": "labelled by docker"}, timeout=30
        )
        assert answer.status_code == 200
        assert "alice/labelled" in answer.text

    _eventually(found)


def test_compare_api_tells_the_two_pushed_tags_apart(server, pushed, registry_users):
    answer = requests.get(
        f"{server.url}/api/v1/repositories/alice/labelled/compare/",
        params={"from": "v1", "to": "v2"},
        auth=("alice", registry_users["alice"]),
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    layers = body["layers"]
    assert len(layers["added"]) == 1 and not layers["removed"] and len(layers["shared"]) >= 2
    assert layers["size_delta"] > 0
    assert body["config"]["env"]["added"] == {"MODE": "two"}
    assert body["config"]["labels"]["removed"] == {"org.opencontainers.image.licenses": "MIT"}
    assert body["config"]["labels"]["added"] == {"org.opencontainers.image.version": "2"}
    # busybox images hold no package database: null until both are scanned, then empty.
    assert body["packages"] in (None, {"added": {}, "removed": {}, "changed": {}})
    unknown = requests.get(
        f"{server.url}/api/v1/repositories/alice/labelled/compare/",
        params={"from": "v1", "to": "v9"},
        timeout=30,
    )
    assert unknown.status_code == 400


def test_compare_of_a_private_repository_is_a_404_to_outsiders(server, pushed, registry_users):
    server.python(
        "from hub.models import Repository\n"
        "from hub.services.repositories import repository_update\n"
        "repository = Repository.objects.get(namespace__name='alice', name='labelled')\n"
        "repository_update(repository=repository, is_private=True)\n"
    )
    try:
        answers = []
        for name in ("labelled", "absent"):
            answer = requests.get(
                f"{server.url}/api/v1/repositories/alice/{name}/compare/",
                params={"from": "v1", "to": "v2"},
                auth=("mallory", registry_users["mallory"]),
                timeout=30,
            )
            answers.append((answer.status_code, answer.content))
        assert answers[0] == answers[1]
        assert answers[0][0] == 404
    finally:
        server.python(
            "from hub.models import Repository\n"
            "Repository.objects.filter(namespace__name='alice', name='labelled')"
            ".update(is_private=False)\n"
        )
