"""`docker search HOST/term` against a running Dockyard: public repositories only."""

from __future__ import annotations


def test_docker_search_lists_public_repository_not_private(server, dockerd, tmp_path):
    server.create_user("searcher", "search-pass-123")
    server.python(
        "from hub.models import Namespace\n"
        "from hub.services.repositories import repository_create\n"
        "ns = Namespace.objects.get(name='searcher')\n"
        "repository_create(namespace=ns, name='lighthouse', description='Beacon service')\n"
        "repository_create(namespace=ns, name='lighthouse-vault', is_private=True)\n"
    )
    docker = dockerd.client(tmp_path / "docker-config")
    result = docker.cli(
        "search", "--no-trunc", "--format", "{{.Name}}\t{{.Description}}",
        f"{server.address}/lighthouse",
    )  # fmt: skip
    lines = result.stdout.strip().splitlines()
    assert lines == ["searcher/lighthouse\tBeacon service"], result.stdout
    limited = docker.cli("search", "--limit", "1", f"{server.address}/searcher")
    assert "lighthouse-vault" not in limited.stdout
