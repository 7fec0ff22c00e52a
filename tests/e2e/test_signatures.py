"""Signatures and referrers against a real server: oras-py attaches a cosign-format signature
(made here with `cryptography`), an SBOM and an in-toto attestation to an image docker pushed;
the REST API and the tag page show them, the signature verifies against the uploaded key only,
and "require a verified signature" makes the real `docker pull` refuse the unsigned tag with
the reason while the signed one still pulls."""

from __future__ import annotations

import json
import re

import oras.oci
import oras.provider
import pytest
import requests

from tests.conftest import PASSWORD
from tests.e2e.images import build_image
from tests.signing import cosign_signature, ecdsa_key, public_pem

REPOSITORY = "alice/signed"
COSIGN_SIG = "application/vnd.dev.cosign.artifact.sig.v1+json"
SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
ALICE = ("alice", PASSWORD)


@pytest.fixture(scope="module")
def docker(dockerd, server, registry_users, tmp_path_factory):
    client = dockerd.client(tmp_path_factory.mktemp("docker-signatures"))
    client.cli("login", server.address, "-u", "alice", "--password-stdin", input=PASSWORD)
    return client


def _push(docker, dockerd, server, images_dir, tag: str, seed: int) -> str:
    image = build_image(
        images_dir / f"layers-sig-{tag}", message=f"signed? {tag}", sizes=(32 * 1024,), seed=seed
    )
    archive = image.write_docker_archive(images_dir / f"sig-{tag}.tar", f"dockyard-test/sig:{tag}")
    dockerd.cli("load", "-i", str(archive))
    reference = f"{server.address}/{REPOSITORY}:{tag}"
    docker.cli("tag", f"dockyard-test/sig:{tag}", reference)
    output = docker.cli("push", reference).stdout
    match = re.search(r"digest: (sha256:[0-9a-f]{64})", output)
    assert match, output
    docker.cli("rmi", reference, f"dockyard-test/sig:{tag}")
    return match.group(1)


def _subject(server, digest: str) -> oras.oci.Subject:
    head = requests.head(
        f"{server.url}/v2/{REPOSITORY}/manifests/{digest}",
        headers={"Accept": ", ".join(_MANIFEST_TYPES)},
        auth=ALICE,
        timeout=30,
    )
    assert head.status_code == 200, head.text
    media_type = head.headers["Content-Type"]
    return oras.oci.Subject(
        mediaType=media_type, digest=digest, size=int(head.headers["Content-Length"])
    )


_MANIFEST_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
)


def _attach(
    server, workdir, subject, *, tag, media_type, data: bytes, config_type, layer_annotations=None
):
    """oras push of one file as an artifact whose subject is `subject` (artifact type: config)."""
    registry = oras.provider.Registry(hostname=server.address, insecure=True)
    registry.auth.set_basic_auth(*ALICE)
    blob = workdir / f"{tag}.json"
    blob.write_bytes(data)
    config = workdir / f"{tag}-config.json"
    config.write_text("{}")
    annotation_file = workdir / f"{tag}-annotations.json"
    annotation_file.write_text(json.dumps({str(blob): layer_annotations or {}}))
    response = registry.push(
        target=f"{server.address}/{REPOSITORY}:{tag}",
        files=[f"{blob}:{media_type}"],
        manifest_config=f"{config}:{config_type}",
        annotation_file=str(annotation_file),
        manifest_annotations={"org.opencontainers.image.created": "2026-03-04T05:06:07Z"},
        subject=subject,
        disable_path_validation=True,
        quiet=True,
    )
    assert response.status_code == 201, response.text
    return response.headers["Docker-Content-Digest"]


def _api(server, method, path, **kwargs):
    return requests.request(method, f"{server.url}/api/v1/{path}", auth=ALICE, timeout=30, **kwargs)


def _key_add(server, name, private_key):
    answer = _api(
        server,
        "POST",
        "namespaces/alice/signing-keys/",
        json={"name": name, "kind": "cosign", "pem": public_pem(private_key)},
    )
    assert answer.status_code == 201, answer.text


def test_signed_and_unsigned_images_with_the_real_clients(
    docker, dockerd, server, images_dir, tmp_path
):
    signed = _push(docker, dockerd, server, images_dir, "signed", seed=81)
    plain_digest = _push(docker, dockerd, server, images_dir, "plain", seed=82)
    subject = _subject(server, signed)

    key = ecdsa_key()
    payload, signature = cosign_signature(key, f"{server.address}/{REPOSITORY}", signed)
    signature_digest = _attach(
        server,
        tmp_path,
        subject,
        tag="cosign-signature",
        media_type=SIMPLE_SIGNING,
        data=payload,
        config_type=COSIGN_SIG,
        layer_annotations={"dev.cosignproject.cosign/signature": signature},
    )
    _attach(
        server,
        tmp_path,
        subject,
        tag="sbom",
        media_type="application/spdx+json",
        data=b'{"spdxVersion": "SPDX-2.3", "name": "signed"}',
        config_type="application/spdx+json",
    )
    _attach(
        server,
        tmp_path,
        subject,
        tag="provenance",
        media_type="application/vnd.in-toto+json",
        data=b'{"_type": "https://in-toto.io/Statement/v1"}',
        config_type="application/vnd.in-toto+json",
    )

    # The OCI referrers API and the REST API both see the three, sorted into kinds.
    index = requests.get(
        f"{server.url}/v2/{REPOSITORY}/referrers/{signed}", auth=ALICE, timeout=30
    ).json()
    assert len(index["manifests"]) == 3
    listed = _api(server, "GET", f"repositories/{REPOSITORY}/tags/signed/referrers/").json()
    assert [(item["kind"], item["artifact_type"]) for item in listed["results"]] == [
        ("signature", COSIGN_SIG),
        ("sbom", "application/spdx+json"),
        ("attestation", "application/vnd.in-toto+json"),
    ]
    assert listed["results"][0]["digest"] == signature_digest
    assert listed["results"][0]["created"] == "2026-03-04T05:06:07Z"
    sbom = requests.get(listed["results"][1]["download_url"], auth=ALICE, timeout=30)
    assert sbom.status_code == 200 and b"SPDX-2.3" in sbom.content

    # Another key does not verify it; the signer's key does.
    status = f"repositories/{REPOSITORY}/tags/signed/signature/"
    assert _api(server, "GET", status).json()["state"] == "unverified"
    _key_add(server, "someone-else", ecdsa_key())
    assert _api(server, "GET", status).json()["reason"] == "no signing key matches the signature"
    _key_add(server, "ci", key)
    assert _api(server, "GET", status).json() == {
        "digest": signed,
        "state": "verified",
        "key_name": "ci",
        "reason": "",
    }
    page = requests.get(f"{server.url}/r/{REPOSITORY}/-/tags/signed/", timeout=30).text
    assert "Verified by key ci" in page and COSIGN_SIG in page
    assert (
        "No signature"
        in requests.get(f"{server.url}/r/{REPOSITORY}/-/tags/plain/", timeout=30).text
    )

    changed = _api(server, "PATCH", f"repositories/{REPOSITORY}/", json={"require_signature": True})
    assert changed.status_code == 200 and changed.json()["require_signature"] is True

    refused = docker.cli("pull", f"{server.address}/{REPOSITORY}:plain", check=False)
    assert refused.returncode != 0, refused.stdout
    print("docker pull printed:", refused.stderr)  # shown with -rP
    assert (
        f"{REPOSITORY} requires a verified signature; {plain_digest} has none" in refused.stderr
    ), refused.stderr
    pulled = docker.cli("pull", f"{server.address}/{REPOSITORY}:signed", check=False)
    assert pulled.returncode == 0, pulled.stderr
    # cosign-style verifiers still read the signature while pulls are gated.
    artifact = requests.get(
        f"{server.url}/v2/{REPOSITORY}/manifests/{signature_digest}",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
        auth=ALICE,
        timeout=30,
    )
    assert artifact.status_code == 200
