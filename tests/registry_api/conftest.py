"""Helpers every registry protocol test shares: Bearer tokens, a one-call blob upload and a
one-call image push."""

from __future__ import annotations

import json

from django.conf import settings

from hub.registry_tokens import token_issue
from registry_api.digests import digest_bytes


def bearer(subject: str, access: list[dict]) -> dict:
    """Test-client kwargs carrying a registry token for `subject` with the given grants."""
    token, _ = token_issue(subject=subject, audience=settings.REGISTRY_SERVICE, access=access)
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def push_access(name: str) -> list[dict]:
    """The grant `docker push` asks for on one repository."""
    return [{"type": "repository", "name": name, "actions": ["pull", "push"]}]


def pull_access(name: str) -> list[dict]:
    return [{"type": "repository", "name": name, "actions": ["pull"]}]


def blob_upload(client, name: str, data: bytes, headers: dict) -> str:
    """Upload `data` to repository `name` (POST start, PUT ?digest= with the body); return the
    digest. Asserts every step answers as the spec says."""
    digest = digest_bytes(data)
    start = client.post(f"/v2/{name}/blobs/uploads/", **headers)
    assert start.status_code == 202, start.content
    location = start["Location"]
    separator = "&" if "?" in location else "?"
    done = client.put(
        f"{location}{separator}digest={digest}",
        data=data,
        content_type="application/octet-stream",
        **headers,
    )
    assert done.status_code == 201, done.content
    assert done["Docker-Content-Digest"] == digest
    return digest


OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _descriptor(media_type: str, data: bytes) -> dict:
    return {"mediaType": media_type, "digest": digest_bytes(data), "size": len(data)}


def image_push(
    client, name: str, tag: str, layer: bytes = b"one layer", headers: dict | None = None
) -> str:
    """Push a one-layer OCI image to `name:tag` as its namespace's owner (or with `headers`);
    return its digest."""
    headers = headers or bearer(name.split("/")[0], push_access(name))
    config = b'{"architecture": "amd64"}'
    for data in (config, layer):
        blob_upload(client, name, data, headers)
    body = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": _descriptor("application/vnd.oci.image.config.v1+json", config),
            "layers": [_descriptor("application/vnd.oci.image.layer.v1.tar", layer)],
        }
    ).encode()
    answer = client.put(
        f"/v2/{name}/manifests/{tag}", data=body, content_type=OCI_MANIFEST, **headers
    )
    assert answer.status_code == 201, answer.content
    return digest_bytes(body)


# Real object stores for the storage tests (S3: SeaweedFS, Swift all-in-one, Azure: Azurite);
# tests/e2e can import these too.
from tests.azurite import azure_registry_storage, azurite  # noqa: E402, F401
from tests.s3 import s3_registry_storage, seaweedfs  # noqa: E402, F401
from tests.swift import swift, swift_registry_storage  # noqa: E402, F401
