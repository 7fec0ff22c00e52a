"""The SBOM document (SPDX 2.3 JSON) and the OCI referrer manifest that carries it.

Written by hand to spdx.github.io/spdx-spec/v2.3 rather than with spdx-tools, whose model and
validators are far heavier than the one document shape we emit. The bytes are deterministic
for one image and package list (the creation time is the image's push time), so a repeated scan
stores the same blob and the same referrer.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re

SPDX_MEDIA_TYPE = "application/spdx+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
EMPTY_BYTES = b"{}"
EMPTY_DIGEST = "sha256:" + hashlib.sha256(EMPTY_BYTES).hexdigest()
GENERATOR = "Tool: dockyard-sbom"
SBOM_FILE_NAME = "sbom.spdx.json"


def _spdx_id(index: int) -> str:
    return f"SPDXRef-Package-{index}"


def spdx_document(*, image_name: str, image_digest: str, created: str, packages, namespace: str):
    """packages: objects with ecosystem, name, version, purl, source_layer."""
    image_id = "SPDXRef-Image"
    entries = [
        {
            "SPDXID": image_id,
            "name": image_name,
            "versionInfo": image_digest,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": False,
            "primaryPackagePurpose": "CONTAINER",
        }
    ]
    relationships = [
        {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES",
         "relatedSpdxElement": image_id},
    ]  # fmt: skip
    for index, package in enumerate(packages, start=1):
        entries.append(
            {
                "SPDXID": _spdx_id(index),
                "name": package.name,
                "versionInfo": package.version,
                "downloadLocation": "NOASSERTION",
                "filesAnalyzed": False,
                "sourceInfo": f"{package.ecosystem} package database in layer "
                f"{package.source_layer}",
                "externalRefs": [
                    {
                        "referenceCategory": "PACKAGE-MANAGER",
                        "referenceType": "purl",
                        "referenceLocator": package.purl,
                    },
                ],  # fmt: skip
            }
        )
        relationships.append(
            {
                "spdxElementId": image_id,
                "relationshipType": "CONTAINS",
                "relatedSpdxElement": _spdx_id(index),
            }  # fmt: skip
        )
    safe_name = re.sub(r"[^A-Za-z0-9.-]+", "-", image_name)
    return {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": f"{safe_name}@{image_digest}",
        "documentNamespace": f"{namespace.rstrip('/')}/spdx/{safe_name}/{image_digest}",
        "creationInfo": {"created": created, "creators": [GENERATOR]},
        "packages": entries,
        "relationships": relationships,
    }


def canonical_json(document) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def referrer_manifest(*, subject, sbom: bytes, created: str) -> bytes:
    """An OCI 1.1 artifact manifest: empty config, one layer (the SBOM), `subject` the image."""
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": SPDX_MEDIA_TYPE,
        "config": {
            "mediaType": OCI_EMPTY,
            "digest": EMPTY_DIGEST,
            "size": len(EMPTY_BYTES),
            "data": base64.b64encode(EMPTY_BYTES).decode(),
        },
        "layers": [
            {
                "mediaType": SPDX_MEDIA_TYPE,
                "digest": "sha256:" + hashlib.sha256(sbom).hexdigest(),
                "size": len(sbom),
                # The file name `oras pull` writes the layer to (it skips untitled layers).
                "annotations": {"org.opencontainers.image.title": SBOM_FILE_NAME},
            }
        ],
        "subject": {
            "mediaType": subject.media_type,
            "digest": subject.digest,
            "size": subject.size,
        },
        "annotations": {"org.opencontainers.image.created": created},
    }
    return canonical_json(manifest)
