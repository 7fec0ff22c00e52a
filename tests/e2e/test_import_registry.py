"""Coming from registry:2: a real docker-registry fills a data directory, `import_registry`
brings it into a Dockyard of its own, and docker and skopeo pull the same digests from it.

registry:2 holds `centos:latest` (a single-component name, imported as library/centos),
`team/app:1.0` and `:stable`, `team/app:multi` (an OCI index of two platforms, its children
untagged) and an OCI artifact whose subject is `team/app:1.0` (pushed by digest with plain HTTP,
as oras would). Pulls name it both ways, `centos` (as registry:2 users do) and `library/centos`.
"""

from __future__ import annotations

import hashlib
import json
import re

import pytest
import requests

from tests.conftest import PASSWORD
from tests.e2e.conftest import server_env
from tests.e2e.images import OCI_INDEX, OCI_MANIFEST, _add_to_index, _write_blob
from tests.e2e.reference import ReferenceRegistry
from tests.e2e.server import Server, drop_throwaway_database
from tests.e2e.tools import Skopeo, registry_token

ARTIFACT_TYPE = "application/vnd.example.sbom.v1"
EMPTY = "application/vnd.oci.empty.v1+json"
ACCEPT = ", ".join(
    [
        OCI_MANIFEST,
        OCI_INDEX,
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ]
)
COUNTS = (
    "import json\n"
    "from hub.models import Repository, Organization\n"
    "from registry_api.models import Blob, Manifest, RepositoryBlob, Tag\n"
    "from registry_api import storage\n"
    "print(json.dumps({m.__name__: m.objects.count() for m in "
    "(Repository, Organization, Blob, Manifest, RepositoryBlob, Tag)} | "
    "{'stored': len(list(storage.blobs().digests()))}))\n"
)

pytestmark = pytest.mark.skipif(
    not ReferenceRegistry.available(), reason="docker-registry (scripts/install-test-deps.sh)"
)


@pytest.fixture(scope="module")
def skopeo(tmp_path_factory):
    return Skopeo(tmp_path_factory.mktemp("skopeo-import"))


def _multi_arch_layout(directory, platform_images) -> str:
    """An OCI layout holding both platform images and an index of them tagged `multi`."""
    descriptors = []
    for image, _ref in platform_images:
        image.write_oci_layout(directory, image.architecture)
        descriptors.append(
            {
                "mediaType": OCI_MANIFEST,
                "digest": image.oci_manifest_digest,
                "size": len(image.oci_manifest_bytes()),
                "platform": image.platform(),
            }
        )
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors})
    digest = _write_blob(directory / "blobs" / "sha256", index.encode())
    _add_to_index(
        directory,
        {
            "mediaType": OCI_INDEX,
            "digest": digest,
            "size": len(index),
            "annotations": {"org.opencontainers.image.ref.name": "multi"},
        },
    )
    return f"oci:{directory}:multi"


def _blob_put(base: str, name: str, data: bytes) -> dict:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    start = requests.post(f"{base}/v2/{name}/blobs/uploads/", timeout=30)
    assert start.status_code == 202, start.text
    location = start.headers["Location"]
    location = location if location.startswith("http") else base + location
    done = requests.put(
        location, params={"digest": digest}, data=data,
        headers={"Content-Type": "application/octet-stream"}, timeout=30,
    )  # fmt: skip
    assert done.status_code == 201, done.text
    return {"digest": digest, "size": len(data)}


def _artifact_push(base: str, name: str, subject: str) -> str:
    """An SBOM-like artifact referring to `subject`, pushed by digest (no tag)."""
    subject_body = requests.get(
        f"{base}/v2/{name}/manifests/{subject}", headers={"Accept": ACCEPT}, timeout=30
    )
    document = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": ARTIFACT_TYPE,
        "config": {"mediaType": EMPTY, **_blob_put(base, name, b"{}")},
        "layers": [{"mediaType": "text/spdx+json", **_blob_put(base, name, b'{"spdx": 1}')}],
        "subject": {
            "mediaType": subject_body.headers["Content-Type"],
            "digest": subject,
            "size": len(subject_body.content),
        },
    }
    body = json.dumps(document).encode()
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    answer = requests.put(
        f"{base}/v2/{name}/manifests/{digest}",
        data=body,
        headers={"Content-Type": OCI_MANIFEST},
        timeout=30,
    )
    assert answer.status_code == 201, answer.text
    return digest


@pytest.fixture(scope="module")
def registry2(tmp_path_factory, skopeo, platform_images) -> dict:
    """registry:2's data directory after the pushes, and the digests registry:2 reported."""
    reference = ReferenceRegistry(tmp_path_factory.mktemp("registry2")).start()
    base, host = reference.url, reference.address
    try:
        pushes = {
            "centos:latest": platform_images[0][1],
            "team/app:1.0": platform_images[1][1],
            "team/app:stable": platform_images[1][1],
            "team/app:multi": _multi_arch_layout(
                tmp_path_factory.mktemp("oci-multi"), platform_images
            ),
        }
        for target, source in pushes.items():
            skopeo("copy", "--all", "--dest-tls-verify=false", source, f"docker://{host}/{target}")
        digests = {}
        for target in pushes:
            name, tag = target.split(":")
            answer = requests.get(
                f"{base}/v2/{name}/manifests/{tag}", headers={"Accept": ACCEPT}, timeout=30
            )
            assert answer.status_code == 200, answer.text
            digests[target] = answer.headers["Docker-Content-Digest"]
        digests["artifact"] = _artifact_push(base, "team/app", digests["team/app:1.0"])
        catalog = requests.get(f"{base}/v2/_catalog", timeout=30).json()["repositories"]
        assert catalog == ["centos", "team/app"]
    finally:
        reference.stop()
    return {"root": reference.directory / "storage", "digests": digests}


@pytest.fixture(scope="module")
def dockyard(tmp_path_factory):
    """A Dockyard of its own: the import's row counts are this test's alone."""
    env = server_env(tmp_path_factory)
    instance = Server(tmp_path_factory.mktemp("dockyard-import"), env=env)
    instance.start()
    instance.create_user("alice", PASSWORD, superuser=True)
    yield instance
    instance.stop()
    drop_throwaway_database(env["DATABASE_URL"])


@pytest.fixture(scope="module")
def imported(dockyard, registry2) -> str:
    return dockyard.manage("import_registry", str(registry2["root"]), "--owner", "alice")


def _counts(server) -> dict:
    return json.loads(server.python(COUNTS).strip().splitlines()[-1])


def test_the_import_reports_each_repository_and_sends_no_webhooks(imported):
    assert re.search(r"\[1/2\] centos -> library/centos \(create\): 1 tag \(1 new", imported)
    assert re.search(
        r"\[2/2\] team/app \(create\): 3 tags \(3 new, 0 moved\), 4 manifests", imported
    )
    assert "create organization team owned by alice" in imported
    assert "0 errors" in imported and "Webhooks: imported tags send no push events" in imported


def test_skopeo_reads_the_digests_registry2_reported(imported, dockyard, registry2, skopeo):
    creds = ["--creds", f"alice:{PASSWORD}", "--tls-verify=false"]
    digests = registry2["digests"]
    for target, name in [
        ("centos:latest", "centos:latest"),
        ("centos:latest", "library/centos:latest"),
        ("team/app:1.0", "team/app:1.0"),
        ("team/app:stable", "team/app:stable"),
        ("team/app:multi", "team/app:multi"),
    ]:
        raw = skopeo("inspect", "--raw", *creds, f"docker://{dockyard.address}/{name}").stdout
        assert "sha256:" + hashlib.sha256(raw.encode()).hexdigest() == digests[target], target
    copy = skopeo.root / "multi-dir"
    skopeo(
        "copy", "--all", "--src-creds", f"alice:{PASSWORD}", "--src-tls-verify=false",
        f"docker://{dockyard.address}/team/app:multi", f"dir:{copy}",
    )  # fmt: skip
    manifest = (copy / "manifest.json").read_bytes()
    assert "sha256:" + hashlib.sha256(manifest).hexdigest() == digests["team/app:multi"]
    children = json.loads(manifest)["manifests"]
    assert {child["platform"]["architecture"] for child in children} == {"amd64", "arm64"}
    for child in children:  # every platform's manifest came along
        assert (copy / (child["digest"].split(":")[1] + ".manifest.json")).exists()


def test_docker_pulls_the_same_digests(imported, dockyard, registry2, dockerd, tmp_path):
    docker = dockerd.client(tmp_path / "docker-config")
    docker.cli("login", dockyard.address, "-u", "alice", "--password-stdin", input=PASSWORD)
    digests = registry2["digests"]
    for target, name in [
        ("centos:latest", "centos:latest"),
        ("centos:latest", "library/centos:latest"),
        ("team/app:1.0", "team/app:1.0"),
        ("team/app:multi", "team/app:multi"),
    ]:
        output = docker.cli("pull", f"{dockyard.address}/{name}").stdout
        assert f"Digest: {digests[target]}" in output, output
        docker.cli("rmi", f"{dockyard.address}/{name}")


def test_the_referrers_api_lists_the_imported_artifact(imported, dockyard, registry2):
    subject = registry2["digests"]["team/app:1.0"]
    token = registry_token(dockyard.url, "repository:team/app:pull", auth=("alice", PASSWORD))
    answer = requests.get(
        f"{dockyard.url}/v2/team/app/referrers/{subject}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    listed = answer.json()["manifests"]
    assert [(m["digest"], m["artifactType"]) for m in listed] == [
        (registry2["digests"]["artifact"], ARTIFACT_TYPE)
    ]


def test_a_second_import_doubles_nothing(imported, dockyard, registry2):
    before = _counts(dockyard)
    assert before["Repository"] == 2 and before["Tag"] == 4 and before["Manifest"] == 5
    assert before["stored"] == before["Blob"] > 0
    again = dockyard.manage("import_registry", str(registry2["root"]), "--owner", "alice")
    assert _counts(dockyard) == before
    assert "(create)" not in again and "0 errors" in again
    assert re.search(r"team/app: 3 tags \(0 new, 0 moved\), 4 manifests \(0 new\)", again)
