"""One side of the GC race test, run in its own process (tests/registry_api/test_gc.py):

    python tests/registry_api/gc_race_worker.py push <repository id> <pushes>
    python tests/registry_api/gc_race_worker.py sweep <stop file>

`push` uploads a fresh layer (and the shared config again) through the upload service, then
pushes a manifest referencing them; with GC_GRACE_SECONDS=0 the sweeper may take the blobs in
between, which the push must then refuse (MANIFEST_BLOB_UNKNOWN), never store a manifest whose
blobs go. `sweep` runs collections until the stop file appears. Each prints one JSON line.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

OCI = "application/vnd.oci.image.manifest.v1+json"


def _upload(repository, data: bytes) -> str:
    from registry_api.digests import digest_bytes
    from registry_api.services.uploads import Chunk, upload_complete, upload_start

    digest = digest_bytes(data)
    upload = upload_start(repository=repository)
    upload_complete(upload=upload, digest=digest, chunk=Chunk(chunks=[data], length=len(data)))
    return digest


def push(repository_id: int, pushes: int) -> dict:
    from hub.models import Repository
    from registry_api.service_errors import ManifestReferenceUnknown
    from registry_api.services.manifests import manifest_push, manifest_validate

    repository = Repository.objects.get(pk=repository_id)
    config = b'{"architecture": "amd64", "os": "linux"}'
    stored, refused, errors = 0, 0, []
    for index in range(pushes):
        layer = f"layer {index} {os.urandom(8).hex()}".encode()
        digests = [_upload(repository, config), _upload(repository, layer)]
        time.sleep(random.random() * 0.004)  # let sweeps land between upload and push
        body = json.dumps({
            "schemaVersion": 2,
            "mediaType": OCI,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": digests[0], "size": len(config)},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                        "digest": digests[1], "size": len(layer)}],
        }).encode()  # fmt: skip
        try:
            valid = manifest_validate(reference=f"t{index}", body=body, content_type=OCI)
            manifest_push(repository=repository, valid=valid, actor=None)
            stored += 1
        except ManifestReferenceUnknown:
            refused += 1
        except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
            errors.append(f"{type(exc).__name__}: {exc}")
    return {"stored": stored, "refused": refused, "errors": errors}


def sweep(stop: Path) -> dict:
    from registry_api.services.gc import Cutoffs, collect

    runs, blobs, links, errors = 0, 0, 0, []
    while not stop.exists():
        freed = collect(cutoffs=Cutoffs.now(grace_seconds=0, upload_seconds=3600))
        runs, blobs, links = runs + 1, blobs + freed.blobs_freed, links + freed.links_dropped
        errors += freed.errors
    return {"runs": runs, "blobs": blobs, "links": links, "errors": errors}


if __name__ == "__main__":
    if sys.argv[1] == "push":
        result = push(int(sys.argv[2]), int(sys.argv[3]))
    else:
        result = sweep(Path(sys.argv[2]))
    print(json.dumps(result))
