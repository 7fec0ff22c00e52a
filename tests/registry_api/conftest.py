"""Helpers every registry protocol test shares: Bearer tokens and a one-call blob upload."""

from __future__ import annotations

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


# A real S3 server (SeaweedFS) for the storage tests; tests/e2e can import these too.
from tests.s3 import s3_registry_storage, seaweedfs  # noqa: E402, F401
