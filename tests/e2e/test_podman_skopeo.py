"""podman and skopeo against Dockyard: push/pull, a multi-arch manifest list, copy, inspect,
list-tags, delete, and a copy between repositories (cross-repository mount)."""

from __future__ import annotations

import hashlib
import json
import socket
import time

import pytest
import requests

from tests.e2e.tools import Podman, Skopeo, ToolError, registry_token

DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


@pytest.fixture(scope="module")
def creds(registry_users) -> str:
    return f"alice:{registry_users['alice']}"


@pytest.fixture(scope="module")
def podman(tmp_path_factory):
    return Podman(tmp_path_factory.mktemp("podman"))


@pytest.fixture(scope="module")
def skopeo(tmp_path_factory):
    return Skopeo(tmp_path_factory.mktemp("skopeo"))


def _get_manifest(server, name: str, reference: str, accept: str) -> requests.Response:
    token = registry_token(server.url, f"repository:{name}:pull")
    return requests.get(
        f"{server.url}/v2/{name}/manifests/{reference}",
        headers={"Authorization": f"Bearer {token}", "Accept": accept},
        timeout=30,
    )


def test_podman_push_and_pull(podman, server, creds, platform_images):
    image, oci_ref = platform_images[0]
    podman("pull", oci_ref)
    reference = f"{server.address}/alice/podman:1"
    podman("tag", image.config_digest.split(":", 1)[1], reference)
    podman("push", "--tls-verify=false", "--creds", creds, reference)
    podman("rmi", "--all", "--force")

    podman("pull", "--tls-verify=false", "--creds", creds, reference)
    image_id = podman("image", "inspect", "--format", "{{.Id}}", reference).stdout.strip()
    assert image_id == image.config_digest.split(":", 1)[1]


def test_podman_manifest_push_of_a_multi_arch_list(
    podman, skopeo, server, creds, platform_images, tmp_path
):
    podman("manifest", "create", "e2e-multi")
    for _, oci_ref in platform_images:
        podman("manifest", "add", "e2e-multi", oci_ref)
    digest_file = tmp_path / "digest"
    podman(
        "manifest",
        "push",
        "--all",
        "--tls-verify=false",
        "--creds",
        creds,
        "--digestfile",
        str(digest_file),
        "e2e-multi",
        f"docker://{server.address}/alice/multi:1",
    )
    digest = digest_file.read_text().strip()

    answer = _get_manifest(server, "alice/multi", "1", f"{DOCKER_LIST}, {OCI_INDEX}")
    assert answer.status_code == 200, answer.text
    assert answer.headers["Docker-Content-Digest"] == digest
    assert "sha256:" + hashlib.sha256(answer.content).hexdigest() == digest
    platforms = {
        (entry["platform"]["architecture"], entry["platform"].get("variant", ""))
        for entry in answer.json()["manifests"]
    }
    assert platforms == {("amd64", ""), ("arm64", "v8")}

    # A client resolves each platform through the list to its own image.
    for image, _ in platform_images:
        args = ["--override-arch", image.architecture]
        if image.variant:
            args += ["--override-variant", image.variant]
        inspected = json.loads(
            skopeo(
                "inspect", "--tls-verify=false", *args, f"docker://{server.address}/alice/multi:1"
            ).stdout
        )
        assert inspected["Architecture"] == image.architecture


def test_skopeo_copy_inspect_list_tags_mount_and_delete(skopeo, server, creds, platform_images):
    # A small image keeps the copies quick: the 50 MiB layer is docker's test.
    _, oci_ref = platform_images[0]
    target = f"docker://{server.address}/alice/skopeo"
    digest = skopeo.push(oci_ref, f"{target}:1", creds)
    auth = ["--tls-verify=false", "--creds", creds]
    # registry to registry, both ends this server
    within = ["copy", "--src-tls-verify=false", "--dest-tls-verify=false"]
    within += ["--src-creds", creds, "--dest-creds", creds]

    inspected = json.loads(skopeo("inspect", *auth, f"{target}:1").stdout)
    assert inspected["Digest"] == digest
    raw = skopeo("inspect", "--raw", *auth, f"{target}:1").stdout.encode()
    assert "sha256:" + hashlib.sha256(raw).hexdigest() == digest

    skopeo(*within, f"{target}:1", f"{target}:2")
    tags = json.loads(skopeo("list-tags", *auth, target).stdout)["Tags"]
    assert sorted(tags) == ["1", "2"]

    # Another repository of the same registry: skopeo mounts layers instead of re-sending them
    copied = skopeo("--debug", *within, f"{target}:1", f"docker://{server.address}/alice/mounted:1")
    # (which layers skopeo tries to mount depends on its blob-info cache; the big one it must.)
    big = max(json.loads(raw)["layers"], key=lambda layer: layer["size"])
    assert "mount OK" in copied.stderr, copied.stderr[-3000:]
    assert f"digest={big['digest'].replace(':', '%3A')}" not in copied.stderr
    mounted = json.loads(
        skopeo("inspect", *auth, f"docker://{server.address}/alice/mounted:1").stdout
    )
    assert mounted["Digest"] == digest

    # Deleting the manifest removes it and both its tags, and nothing in the other repository.
    skopeo("delete", *auth, f"{target}:1")
    with pytest.raises(ToolError, match="(?i)manifest unknown|not found"):
        skopeo("inspect", *auth, f"{target}:2")
    assert json.loads(skopeo("list-tags", *auth, target).stdout)["Tags"] == []
    assert (
        json.loads(skopeo("inspect", *auth, f"docker://{server.address}/alice/mounted:1").stdout)[
            "Digest"
        ]
        == digest
    )


def test_a_tls_handshake_on_the_plain_http_port_is_refused_at_once(server):
    """podman and skopeo (--tls-verify=false) try TLS first; they must not wait for a timeout."""
    # The first bytes of a TLS ClientHello: record type 0x16 (handshake), version 3.1.
    hello = bytes.fromhex("160301020001") + b"\x00" * 64
    started = time.monotonic()
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(hello)
        answer = sock.recv(64)
    assert answer.startswith(b"HTTP/1.0 400"), answer
    assert time.monotonic() - started < 3
