"""SBOMs and vulnerability scanning end to end: `docker push` of an image with a Debian package
database and a Python package; the server's Celery worker scans it, stores an SPDX referrer
(listed by the referrers API) and its packages; `import_osv` flags the vulnerable package, and
a newer record is matched from stored packages without reading a layer again."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import oras.provider
import pytest
import requests

from tests.e2e.images import TestImage, busybox_layer, text_layer
from tests.e2e.tools import registry_token
from tests.scanning.images import DEBIAN_FILES

OSV = Path(__file__).parent.parent / "scanning" / "osv"
VULNERABLE = "3.0.11-1~deb12u1"


@pytest.fixture(scope="module")
def docker(dockerd, server, registry_users, tmp_path_factory):
    client = dockerd.client(tmp_path_factory.mktemp("docker-sbom"))
    client.cli(
        "login", server.address, "-u", "alice", "--password-stdin", input=registry_users["alice"]
    )
    return client


@pytest.fixture(scope="module")
def pushed(docker, server, images_dir):
    """alice/sbom-app:1, a busybox image with dpkg status, os-release and a dist-info."""
    directory = images_dir / "sbom"
    for folder in (directory, images_dir / "layers"):
        folder.mkdir(exist_ok=True)
    image = TestImage(
        layers=[
            busybox_layer(images_dir / "layers"),
            text_layer(directory, "debian", DEBIAN_FILES),
        ],
        message="hello from a scanned image",
    )
    archive = image.write_docker_archive(directory / "sbom.tar", "dockyard-test/sbom:1")
    docker.cli("load", "-i", str(archive))
    reference = f"{server.address}/alice/sbom-app:1"
    docker.cli("tag", "dockyard-test/sbom:1", reference)
    output = docker.cli("push", reference).stdout
    match = re.search(r"1: digest: (sha256:[0-9a-f]{64})", output)
    assert match, output
    docker.cli("rmi", reference, "dockyard-test/sbom:1")
    return match.group(1)


def _api(server, path: str, registry_users) -> dict:
    answer = requests.get(
        f"{server.url}/api/v1/{path}", auth=("alice", registry_users["alice"]), timeout=30
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def _scan_row(server, digest: str) -> dict:
    return json.loads(
        server.python(
            "import json\nfrom scanning.models import ImageScan\n"
            f"s = ImageScan.objects.filter(manifest__digest={digest!r}).first()\n"
            "print(json.dumps(s and {'pk': s.pk, 'bytes': s.bytes_read, "
            "'layers': s.layers_read, 'at': s.scanned_at.isoformat()}))\n"
        ).splitlines()[-1]  # the shell may print a banner first
    )


def _wait_for_scan(server, digest: str, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = _scan_row(server, digest)
        if row:
            return row
        time.sleep(1)
    raise AssertionError(f"no scan of {digest} after {timeout}s:\n{server.log()[-3000:]}")


def test_docker_push_gets_an_sbom_referrer_and_vulnerabilities(
    server, pushed, registry_users, tmp_path
):
    scan = _wait_for_scan(server, pushed)
    assert scan["layers"] == 2

    packages = _api(server, "repositories/alice/sbom-app/tags/1/sbom/", registry_users)
    assert {(p["ecosystem"], p["name"], p["version"]) for p in packages["results"]} >= {
        ("deb", "openssl", VULNERABLE), ("pypi", "x", "1.0"),
    }  # fmt: skip

    token = registry_token(
        server.url, "repository:alice/sbom-app:pull", auth=("alice", registry_users["alice"])
    )
    headers = {"Authorization": f"Bearer {token}"}
    referrers = requests.get(
        f"{server.url}/v2/alice/sbom-app/referrers/{pushed}", headers=headers, timeout=30
    ).json()
    [sbom] = [m for m in referrers["manifests"] if m["artifactType"] == "application/spdx+json"]
    manifest = requests.get(
        f"{server.url}/v2/alice/sbom-app/manifests/{sbom['digest']}",
        headers={**headers, "Accept": "application/vnd.oci.image.manifest.v1+json"},
        timeout=30,
    ).json()
    document = requests.get(
        f"{server.url}/v2/alice/sbom-app/blobs/{manifest['layers'][0]['digest']}",
        headers=headers,
        timeout=30,
    ).json()
    names = {package["name"] for package in document["packages"]}
    assert {"openssl", "libssl3", "x"} <= names
    # Another OCI client (oras-py, as `oras pull <name>@<digest>`) fetches the SBOM file.
    registry = oras.provider.Registry(hostname=server.address, insecure=True)
    registry.auth.set_basic_auth("alice", registry_users["alice"])
    target = f"{server.address}/alice/sbom-app@{sbom['digest']}"
    [pulled] = registry.pull(target=target, outdir=str(tmp_path))
    assert Path(pulled).name == "sbom.spdx.json"
    assert json.loads(Path(pulled).read_text())["spdxVersion"] == "SPDX-2.3"

    server.manage("import_osv", str(OSV / "DSA-9001-1.json"), str(OSV / "GHSA-test-x.json"))
    found = _api(server, "repositories/alice/sbom-app/tags/1/vulnerabilities/", registry_users)
    openssl = next(r for r in found["results"] if r["package"] == "openssl")
    assert (openssl["installed"], openssl["fixed"], openssl["severity"]) == (
        VULNERABLE, "3.0.11-1~deb12u2", "critical",
    )  # fmt: skip

    # A newer record is matched against the stored packages: the scan is not run again.
    output = server.manage("import_osv", str(OSV / "GHSA-test-x-critical.json"))
    assert "1 images re-evaluated" in output
    again = _api(server, "repositories/alice/sbom-app/tags/1/vulnerabilities/", registry_users)
    assert {r["id"] for r in again["results"]} >= {"GHSA-xxxx-test-0002"}
    assert _scan_row(server, pushed) == scan

    search = _api(server, f"search/packages/?name=openssl&version={VULNERABLE}", registry_users)
    assert any(
        r["repository"] == "alice/sbom-app" and r["tags"] == ["1"] for r in search["results"]
    )
    # Another user (mallory) sees nothing of a repository once it is private.
    server.python(
        "from hub.models import Repository\n"
        "Repository.objects.filter(namespace__name='alice', name='sbom-app')"
        ".update(is_private=True)\n"
    )
    hidden = requests.get(
        f"{server.url}/api/v1/search/packages/?name=openssl",
        auth=("mallory", registry_users["mallory"]),
        timeout=30,
    ).json()
    assert not any(r["repository"] == "alice/sbom-app" for r in hidden["results"])
