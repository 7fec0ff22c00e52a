"""`docker search` against a running Dockyard marks `library` repositories official, and the
engine's own `--filter is-official=true` keeps only them."""

from __future__ import annotations

import json

TERM = "beacon"


def _names(stdout: str) -> list[str]:
    return [json.loads(line)["Name"] for line in stdout.strip().splitlines()]


def test_docker_search_shows_official_library_repository(server, dockerd, tmp_path):
    server.create_user("harbor", "harbor-pass-123")
    server.python(
        "from hub.models import Namespace\n"
        "from hub.services.repositories import repository_create\n"
        "repository_create(namespace=Namespace.objects.get(name='library'), name='beacon',\n"
        "                  description='The official beacon')\n"
        "repository_create(namespace=Namespace.objects.get(name='harbor'), name='beacon',\n"
        "                  description='A fork of beacon')\n"
    )
    docker = dockerd.client(tmp_path / "docker-config")
    table = docker.cli("search", "--no-trunc", f"{server.address}/{TERM}").stdout
    rows = {line.split()[0]: line for line in table.strip().splitlines()[1:]}
    # "names" may show library/beacon as beacon: either way it is the one marked [OK].
    official = [name for name, row in rows.items() if row.rstrip().endswith("[OK]")]
    assert len(official) == 1 and official[0] in ("library/beacon", "beacon"), table
    assert not rows["harbor/beacon"].rstrip().endswith("[OK]"), table

    every = docker.cli("search", "--format", "{{json .}}", f"{server.address}/{TERM}").stdout
    assert sorted(_names(every)) == sorted([official[0], "harbor/beacon"])
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
    assert _names(none) == ["harbor/beacon"]
