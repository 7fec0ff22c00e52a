"""`docker search` against a running Dockyard marks `library` repositories official, and the
engine's own `--filter is-official=true` keeps only them."""

from __future__ import annotations

import json

# A word no other test module puts in a name or description on the shared server.
TERM = "lodestar"


def _names(stdout: str) -> list[str]:
    return [json.loads(line)["Name"] for line in stdout.strip().splitlines()]


def test_docker_search_shows_official_library_repository(server, dockerd, tmp_path):
    server.create_user("harbor", "harbor-pass-123")
    server.python(
        "from hub.models import Namespace\n"
        "from hub.services.repositories import repository_create\n"
        "repository_create(namespace=Namespace.objects.get(name='library'), name='lodestar',\n"
        "                  description='The official lodestar')\n"
        "repository_create(namespace=Namespace.objects.get(name='harbor'), name='lodestar',\n"
        "                  description='A fork of lodestar')\n"
    )
    docker = dockerd.client(tmp_path / "docker-config")
    table = docker.cli("search", "--no-trunc", f"{server.address}/{TERM}").stdout
    rows = {line.split()[0]: line for line in table.strip().splitlines()[1:]}
    # library/lodestar is shown by its short name, as Docker Hub shows its official images.
    official = [name for name, row in rows.items() if row.rstrip().endswith("[OK]")]
    assert official == ["lodestar"], table
    assert not rows["harbor/lodestar"].rstrip().endswith("[OK]"), table

    every = docker.cli("search", "--format", "{{json .}}", f"{server.address}/{TERM}").stdout
    assert sorted(_names(every)) == sorted([official[0], "harbor/lodestar"])
    only = docker.cli(
        "search", "--filter", "is-official=true", "--format", "{{json .}}",
        f"{server.address}/{TERM}",
    ).stdout  # fmt: skip
    assert _names(only) == [official[0]]
    assert json.loads(only.strip())["IsOfficial"] == "true"  # the CLI formats it as text
    none = docker.cli(
        "search", "--filter", "is-official=false", "--format", "{{json .}}",
        f"{server.address}/{TERM}",
    ).stdout  # fmt: skip
    assert _names(none) == ["harbor/lodestar"]
