"""The docker and skopeo pushes again, against a server whose blobs live in S3 (SeaweedFS)."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import server_env
from tests.e2e.server import Server, drop_throwaway_database
from tests.e2e.tools import Skopeo
from tests.s3 import seaweedfs  # noqa: F401 - session fixture: one S3 server per run


@pytest.fixture(scope="module")
def s3_server(seaweedfs, tmp_path_factory):  # noqa: F811 - the fixture imported above
    env = server_env(tmp_path_factory, **seaweedfs.server_env())
    server = Server(tmp_path_factory.mktemp("dockyard-s3"), env=env).start()
    try:
        server.create_user("alice", PASSWORD)
        yield server
    finally:
        server.stop()
        drop_throwaway_database(env["DATABASE_URL"])


def _stored_objects(seaweedfs) -> dict[str, int]:  # noqa: F811
    client = seaweedfs.client()
    objects = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=seaweedfs.bucket):
        objects.update({item["Key"]: item["Size"] for item in page.get("Contents", [])})
    return objects


def test_docker_push_pull_run_on_s3(
    s3_server,
    seaweedfs,  # noqa: F811 - the fixture imported above
    dockerd,
    app_archive,
    app_image,
    tmp_path,
):
    docker = dockerd.client(tmp_path / "docker")
    docker.cli("login", s3_server.address, "-u", "alice", "--password-stdin", input=PASSWORD)
    archive, loaded = app_archive
    docker.cli("load", "-i", str(archive))
    reference = f"{s3_server.address}/alice/app:s3"
    docker.cli("tag", loaded, reference)
    output = docker.cli("push", reference).stdout
    digest = re.search(r"digest: (sha256:[0-9a-f]{64})", output).group(1)
    docker.cli("rmi", reference)

    # The 50 MiB layer went to the bucket, not to the server's disk.
    assert max(_stored_objects(seaweedfs).values()) > 50 * 1024 * 1024
    storage_dir = s3_server.data_dir / "storage"
    on_disk = [p for p in storage_dir.rglob("*") if p.is_file()] if storage_dir.exists() else []
    assert all(p.stat().st_size < 1024 * 1024 for p in on_disk), on_disk

    assert digest in docker.cli("pull", reference).stdout
    result = docker.cli("run", "--rm", "--network", "none", reference).stdout
    assert result.strip() == app_image.message
    docker.cli("rmi", reference)


def test_skopeo_copy_and_inspect_on_s3(s3_server, platform_images, tmp_path):
    skopeo = Skopeo(tmp_path / "skopeo")
    target = f"docker://{s3_server.address}/alice/skopeo:s3"
    creds = f"alice:{PASSWORD}"
    digest = skopeo.push(platform_images[1][1], target, creds)
    inspected = json.loads(skopeo("inspect", "--tls-verify=false", "--creds", creds, target).stdout)
    assert inspected["Digest"] == digest
    # And back out of the registry into a fresh layout, every blob verified by skopeo.
    skopeo(
        "copy", "--src-tls-verify=false", "--src-creds", creds, target, f"oci:{tmp_path / 'out'}:x"
    )
    assert (tmp_path / "out" / "index.json").exists()
