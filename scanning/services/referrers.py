"""Store an image's SBOM as an OCI referrer of it, through the registry's own blob and manifest
services (so `GET /v2/<name>/referrers/<digest>` lists it). No tag moves, so no push event."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from django.conf import settings

from registry_api import storage
from registry_api.models import Blob, Manifest
from registry_api.services.blobs import blob_bytes_guard, blob_link, blob_register
from registry_api.services.manifests import manifest_store, manifest_validate
from scanning import sbom


def _blob_put(*, repository, data: bytes) -> Blob:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    store = storage.blobs()
    if not store.exists(digest):
        handle, staged = tempfile.mkstemp(dir=storage.staging_dir(), prefix="sbom-")
        try:
            with os.fdopen(handle, "wb") as writer:
                writer.write(data)
            store.put_verified(digest, Path(staged))
        finally:
            Path(staged).unlink(missing_ok=True)
    blob = blob_register(digest=digest, size=len(data))
    blob_link(repository=repository, blob=blob)
    return blob


def sbom_referrer_store(*, manifest: Manifest, packages) -> Manifest:
    """Write the SPDX document and its referrer manifest; return the referrer."""
    repository = manifest.repository
    created = manifest.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    document = sbom.spdx_document(
        image_name=repository.full_name,
        image_digest=manifest.digest,
        created=created,
        packages=packages,
        namespace=settings.SITE_URL or "https://dockyard.invalid",
    )
    body = sbom.canonical_json(document)
    referrer = sbom.referrer_manifest(subject=manifest, sbom=body, created=created)
    digest = "sha256:" + hashlib.sha256(referrer).hexdigest()
    valid = manifest_validate(reference=digest, body=referrer, content_type=sbom.OCI_MANIFEST)
    with blob_bytes_guard():
        blobs = [
            _blob_put(repository=repository, data=sbom.EMPTY_BYTES),
            _blob_put(repository=repository, data=body),
        ]
        return manifest_store(repository=repository, valid=valid, actor=None, blobs=blobs)
