"""The docker and skopeo pushes again, against servers whose blobs live in an object store: S3
(SeaweedFS), OpenStack Swift (an all-in-one) and Azure Blob (Azurite), each a real server on
loopback. The servers redirect blob GETs to signed URLs (presigned S3, TempURL, SAS)."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
import requests

from tests.azurite import azurite  # noqa: F401 - session fixture: one Azurite per run
from tests.conftest import PASSWORD
from tests.e2e.conftest import server_env
from tests.e2e.server import Server, drop_throwaway_database
from tests.e2e.tools import Skopeo, registry_token
from tests.s3 import seaweedfs  # noqa: F401 - session fixture: one S3 server per run
from tests.swift import swift  # noqa: F401 - session fixture: one Swift per run

MANIFEST_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json,"
    "application/vnd.oci.image.manifest.v1+json"
)
# The session fixture of each object store's server.
STORES = {"s3": "seaweedfs", "swift": "swift", "azure": "azurite"}


@pytest.fixture(scope="module", params=list(STORES))
def object_store(request):
    return request.getfixturevalue(STORES[request.param])


@pytest.fixture(scope="module")
def store_server(object_store, tmp_path_factory):
    env = server_env(tmp_path_factory, **object_store.server_env(), REGISTRY_BLOB_REDIRECT="true")
    server = Server(tmp_path_factory.mktemp("dockyard-objects"), env=env).start()
    try:
        server.create_user("alice", PASSWORD)
        yield server
    finally:
        server.stop()
        drop_throwaway_database(env["DATABASE_URL"])


def test_docker_push_lands_in_the_store_and_pulls_back(
    store_server, object_store, dockerd, app_archive, app_image, tmp_path, request
):
    docker = dockerd.client(tmp_path / "docker")
    docker.cli("login", store_server.address, "-u", "alice", "--password-stdin", input=PASSWORD)
    archive, loaded = app_archive
    docker.cli("load", "-i", str(archive))
    reference = f"{store_server.address}/alice/app:stored"
    docker.cli("tag", loaded, reference)
    output = docker.cli("push", reference).stdout
    digest = re.search(r"digest: (sha256:[0-9a-f]{64})", output).group(1)
    docker.cli("rmi", reference)

    # The 50 MiB layer went to the object store, not to the server's disk: as the blob object of
    # its digest, or on S3 where its upload staged it (the Blob row names that key).
    token = registry_token(store_server.url, "repository:alice/app:pull", ("alice", PASSWORD))
    manifest = requests.get(
        f"{store_server.url}/v2/alice/app/manifests/stored",
        headers={"Authorization": f"Bearer {token}", "Accept": MANIFEST_TYPES},
        timeout=30,
    ).json()
    layer = max(manifest["layers"], key=lambda item: item["size"])
    layer_digest = layer["digest"]
    objects = object_store.object_sizes()
    layer_name, layer_size = max(objects.items(), key=lambda item: item[1])
    assert layer_size == layer["size"] > 50 * 1024 * 1024
    content_address = f"blobs/sha256/{layer_digest[7:9]}/{layer_digest[7:]}"
    staged = r"(.*/)?uploads/[0-9a-f-]{36}/data-[0-9a-f]{32}"
    assert layer_name.endswith(content_address) or (
        request.node.callspec.params["object_store"] == "s3" and re.fullmatch(staged, layer_name)
    ), layer_name
    storage_dir = store_server.data_dir / "storage"
    on_disk = [p for p in storage_dir.rglob("*") if p.is_file()] if storage_dir.exists() else []
    assert all(p.stat().st_size < 1024 * 1024 for p in on_disk), on_disk

    # A blob GET answers 307 to a signed URL of the store, which serves the right bytes.
    answer = requests.get(
        f"{store_server.url}/v2/alice/app/blobs/{layer_digest}",
        headers={"Authorization": f"Bearer {token}"},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 307, answer.text
    assert answer.headers["Location"].startswith("http://127.0.0.1:")
    fetched = requests.get(answer.headers["Location"], stream=True, timeout=60)
    assert fetched.status_code == 200
    sha256 = hashlib.sha256()
    for chunk in fetched.iter_content(1024 * 1024):
        sha256.update(chunk)
    assert f"sha256:{sha256.hexdigest()}" == layer_digest

    # docker pull follows those redirects to the store.
    assert digest in docker.cli("pull", reference).stdout
    result = docker.cli("run", "--rm", "--network", "none", reference).stdout
    assert result.strip() == app_image.message
    docker.cli("rmi", reference)


def test_skopeo_copy_and_inspect(store_server, platform_images, tmp_path):
    skopeo = Skopeo(tmp_path / "skopeo")
    target = f"docker://{store_server.address}/alice/skopeo:stored"
    creds = f"alice:{PASSWORD}"
    digest = skopeo.push(platform_images[1][1], target, creds)
    inspected = json.loads(skopeo("inspect", "--tls-verify=false", "--creds", creds, target).stdout)
    assert inspected["Digest"] == digest
    # And back out of the registry into a fresh layout, every blob verified by skopeo.
    skopeo(
        "copy", "--src-tls-verify=false", "--src-creds", creds, target, f"oci:{tmp_path / 'out'}:x"
    )
    assert (tmp_path / "out" / "index.json").exists()
