"""One Dockyard endpoint mirrors two upstreams for containerd (`?ns=<upstream host>`).

Two reference registries on loopback, each holding its own image; one Dockyard with a proxy
cache of each; containerd (the one the tests' dockerd runs) pulls `<upstream>/library/<name>`
with a hosts.toml per upstream that names only Dockyard as the mirror. Dockyard's access log
shows both pulls went through it with `ns=`, and each cache holds its upstream's image.
"""

from __future__ import annotations

import re
import subprocess
import time

import pytest

from tests.e2e.dockerd import Dockerd
from tests.e2e.images import MiB, build_image
from tests.e2e.server import Server, drop_throwaway_database, throwaway_database_url
from tests.mirror.upstream import ReferenceRegistry

pytestmark = pytest.mark.e2e

HOSTS_TOML = """\
server = "{server}"

[host."{mirror}"]
  capabilities = ["pull", "resolve"]
"""


@pytest.fixture(scope="module")
def upstreams(tmp_path_factory):
    """[(registry, image name, manifest digest)] for two upstreams, each with its own image."""
    result = []
    for index, name in enumerate(("alpha", "beta")):
        image = build_image(
            tmp_path_factory.mktemp(f"ns-image-{name}"),
            message=f"from {name}",
            sizes=(MiB,),
            seed=60 + index,
        )
        registry = ReferenceRegistry(tmp_path_factory.mktemp(f"ns-upstream-{name}")).start()
        digest = registry.image_push(f"library/{name}", "1", image)
        result.append((registry, name, digest))
    yield result
    for registry, _, _ in result:
        registry.stop()


@pytest.fixture(scope="module")
def dockyard(tmp_path_factory, upstreams):
    database_url = throwaway_database_url() or (
        f"sqlite:///{tmp_path_factory.mktemp('ns-db') / 'db.sqlite3'}"
    )
    server = Server(
        tmp_path_factory.mktemp("ns-dockyard"),
        env={"DATABASE_URL": database_url, "ACCESS_LOG": "1", "REDIS_URL": ""},
    ).start()
    for registry, _, _ in upstreams:
        server.python(
            "from registry_api.models import ProxyCache\n"
            "from registry_api.proxy.services import proxy_cache_save\n"
            f"proxy_cache_save(proxy_cache=ProxyCache(namespace='up-{registry.port}', "
            f"upstream_url='{registry.url}'))\n"
        )
    yield server
    server.stop()
    drop_throwaway_database(database_url)


@pytest.fixture(scope="module")
def containerd_socket(tmp_path_factory):
    """The socket of the containerd that a private dockerd starts for itself."""
    daemon = Dockerd(tmp_path_factory.mktemp("ns-dockerd")).start()
    deadline = time.monotonic() + 30
    sockets = []
    while time.monotonic() < deadline and not sockets:
        sockets = list(daemon.short_dir.rglob("containerd.sock"))
        time.sleep(0.2)
    if not sockets:
        daemon.stop()
        pytest.skip("dockerd started no containerd of its own")
    yield str(sockets[0])
    daemon.stop()


def address(registry: ReferenceRegistry) -> str:
    return f"127.0.0.1:{registry.port}"


def ctr(socket: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["ctr", "--address", socket, "--namespace", "dockyard-ns", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_containerd_pulls_two_upstreams_through_one_endpoint(
    tmp_path, upstreams, dockyard, containerd_socket
):
    hosts_dir = tmp_path / "certs.d"
    for registry, _, _ in upstreams:
        directory = hosts_dir / address(registry)
        directory.mkdir(parents=True)
        # The upstream itself is reachable over https only, which it does not speak: a pull
        # that did not go through Dockyard fails.
        (directory / "hosts.toml").write_text(
            HOSTS_TOML.format(server=f"https://{address(registry)}", mirror=dockyard.url)
        )

    for registry, name, digest in upstreams:
        reference = f"{address(registry)}/library/{name}:1"
        pulled = ctr(
            containerd_socket,
            "images",
            "pull",
            "--snapshotter",
            "native",
            "--hosts-dir",
            str(hosts_dir),
            reference,
        )
        assert pulled.returncode == 0, pulled.stderr + pulled.stdout
        listed = ctr(containerd_socket, "images", "ls")
        assert reference in listed.stdout and digest in listed.stdout

    log = dockyard.log()
    for registry, name, _ in upstreams:
        ns = re.escape(address(registry))
        assert re.search(rf"(HEAD|GET) /v2/library/{name}/manifests/1 200 .* ns={ns}", log), log[
            -3000:
        ]
        assert re.search(rf"GET /v2/library/{name}/blobs/sha256:\w+ 200 .* ns={ns}", log)
    cached = dockyard.python(
        "from hub.models import Repository\n"
        "print(sorted(f'{r.namespace.name}/{r.name}' for r in Repository.objects.all()))"
    )
    (alpha, _, _), (beta, _, _) = upstreams
    assert f"up-{alpha.port}/library/alpha" in cached
    assert f"up-{beta.port}/library/beta" in cached
