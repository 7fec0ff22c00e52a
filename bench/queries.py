#!/usr/bin/env python3
"""Database queries and object-store requests of one push and one pull, request by request:
`.venv/bin/python bench/queries.py [--storage filesystem|s3] [--database postgres|sqlite]`

In one process, through Django's test client (the whole /v2/ request path: middleware, the gate,
views, services; no HTTP server), it replays what `docker push` and `docker pull` send for a
two-blob image (config and one layer), with a token from /auth/token as docker gets it, and
counts for each request the SQL statements (CaptureQueriesContext) and, on S3, the requests the
storage's boto3 client sends. Pulls are buffered as in a gunicorn worker (registry_api.pulls:
one flush a second per worker, whatever the number of pulls), so a pull's count shows apart.

The database is a throwaway one: PostgreSQL on 127.0.0.1:5432 (created and dropped) by default,
or SQLite under a temporary DATA_DIR. The cache is what the settings choose (the file cache
without REDIS_URL, as `make run`).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import sys
import tempfile
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

POSTGRES_ROOT = "postgres://postgres@127.0.0.1:5432"
USER, PASSWORD = "bench", "bench-Passw0rd-bench"
NAME = "bench/app"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


def _expect(response, status: int) -> None:
    if response.status_code != status:
        raise SystemExit(f"{response.status_code} instead of {status}: {response.content[:300]!r}")


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Counted:
    """Request → (status, SQL statements, object-store requests), in order."""

    def __init__(self, client, s3_calls: Counter | None):
        self.client = client
        self.s3_calls = s3_calls
        self.rows: list[tuple[str, int, int, int | None]] = []
        self.verbose = False

    def __call__(self, label: str, method: str, path: str, **kwargs):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        before = sum(self.s3_calls.values()) if self.s3_calls is not None else None
        with CaptureQueriesContext(connection) as queries:
            response = getattr(self.client, method)(path, **kwargs)
            if getattr(response, "streaming", False):
                for _ in response.streaming_content:
                    pass
        s3 = sum(self.s3_calls.values()) - before if self.s3_calls is not None else None
        self.rows.append((label, response.status_code, len(queries), s3))
        if self.verbose:
            print(f"--- {label}: {response.status_code}")
            for query in queries.captured_queries:
                print("   ", query["sql"][:160])
        return response


def _token(counted: Counted, scope: str, label: str = "") -> dict:
    basic = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    from django.conf import settings

    answer = counted(
        f"GET /auth/token {label}".strip(),
        "get",
        "/auth/token",
        data={"service": settings.REGISTRY_SERVICE, "scope": scope},
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    _expect(answer, 200)
    body = answer.json()
    return {"HTTP_AUTHORIZATION": f"Bearer {body.get('token') or body['access_token']}"}


def _push(counted: Counted, config: bytes, layer: bytes) -> str:
    counted("GET /v2/ (challenge)", "get", "/v2/")
    headers = _token(counted, f"repository:{NAME}:pull,push")
    for label, data in (("config", config), ("layer", layer)):
        digest = _digest(data)
        counted(f"HEAD blob ({label}, absent)", "head", f"/v2/{NAME}/blobs/{digest}", **headers)
        start = counted(f"POST upload ({label})", "post", f"/v2/{NAME}/blobs/uploads/", **headers)
        _expect(start, 202)
        patch = counted(
            f"PATCH ({label})",
            "patch",
            start["Location"],
            data=data,
            content_type="application/octet-stream",
            **headers,
        )
        _expect(patch, 202)
        done = counted(
            f"PUT ?digest= ({label})",
            "put",
            f"{patch['Location']}?digest={digest}",
            **headers,
        )
        _expect(done, 201)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST,
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "digest": _digest(config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "digest": _digest(layer),
                    "size": len(layer),
                }
            ],
        }
    ).encode()
    put = counted(
        "PUT manifest (tag)",
        "put",
        f"/v2/{NAME}/manifests/latest",
        data=manifest,
        content_type=DOCKER_MANIFEST,
        **headers,
    )
    _expect(put, 201)
    return _digest(manifest)


def _pull(counted: Counted, config: bytes, layer: bytes, label: str) -> None:
    counted(f"GET /v2/ (challenge) {label}", "get", "/v2/")
    headers = _token(counted, f"repository:{NAME}:pull", label)
    accept = {"HTTP_ACCEPT": DOCKER_MANIFEST}
    answer = counted(
        f"GET manifest by tag {label}", "get", f"/v2/{NAME}/manifests/latest", **headers, **accept
    )
    _expect(answer, 200)
    for part, data in (("config", config), ("layer", layer)):
        got = counted(
            f"GET blob ({part}) {label}", "get", f"/v2/{NAME}/blobs/{_digest(data)}", **headers
        )
        _expect(got, 200)


def _report(rows, s3: bool) -> str:
    lines = [f"{'request':40} {'status':>6} {'SQL':>4}" + ("  S3" if s3 else "")]
    for label, status, queries, calls in rows:
        lines.append(f"{label:40} {status:>6} {queries:>4}" + (f" {calls:>3}" if s3 else ""))
    return "\n".join(lines)


def _totals(rows, prefix_filter) -> tuple[int, int]:
    chosen = [row for row in rows if prefix_filter(row[0])]
    return sum(row[2] for row in chosen), sum(row[3] or 0 for row in chosen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--storage", choices=("filesystem", "s3"), default="filesystem")
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--verbose", action="store_true", help="print every statement")
    parser.add_argument("--layer-kib", type=int, default=1024, help="layer size (1024 KiB)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="dockyard-queries-"))
    database_name = f"dockyard_bench_{uuid.uuid4().hex[:10]}"
    os.environ["DATA_DIR"] = str(tmp)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    if args.database == "postgres":
        import psycopg2

        admin = psycopg2.connect(POSTGRES_ROOT + "/postgres")
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{database_name}"')
        os.environ["DATABASE_URL"] = f"{POSTGRES_ROOT}/{database_name}"
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    seaweed = None
    try:
        if args.storage == "s3":
            from tests.s3 import SeaweedFS

            seaweed = SeaweedFS(tmp / "seaweedfs").start()
            os.environ.update(seaweed.server_env())
        import django

        django.setup()
        from django.core.files.storage import storages
        from django.core.management import call_command
        from django.test import Client

        from registry_api import pulls

        call_command("migrate", verbosity=0)
        from django.contrib.auth import get_user_model

        get_user_model().objects.create_user(USER, password=PASSWORD)
        s3_calls = None
        if args.storage == "s3":
            s3_calls = Counter()
            client = storages["registry"].connection.meta.client

            def count(event_name, **_kwargs):
                s3_calls[event_name.split(".")[-1]] += 1

            client.meta.events.register("before-send.s3", count)
        pulls.flusher_start()  # buffered, as in a gunicorn worker
        counted = Counted(Client(HTTP_HOST="127.0.0.1"), s3_calls)
        counted.verbose = args.verbose
        config = b'{"architecture": "amd64", "os": "linux"}'
        layer = os.urandom(args.layer_kib * 1024)
        _push(counted, config, layer)
        push_rows = list(counted.rows)
        counted.rows.clear()
        _pull(counted, config, layer, "(first)")
        _pull(counted, config, layer, "(again)")
        pull_rows = list(counted.rows)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as flush:
            pulls.pulls_flush()
        pulls.flusher_stop()
    finally:
        if seaweed is not None:
            seaweed.stop()
        if args.database == "postgres":
            from django.db import connections

            connections.close_all()
            with admin.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{database_name}" WITH (FORCE)')
            admin.close()
    s3 = args.storage == "s3"
    print(f"database: {args.database}; storage: {args.storage}; layer {args.layer_kib} KiB")
    print(_report(push_rows, s3))
    sql, calls = _totals(push_rows, lambda label: True)
    print(f"push total: {sql} SQL" + (f", {calls} S3 requests" if s3 else ""))
    print(_report(pull_rows, s3))
    for which in ("(first)", "(again)"):
        sql, calls = _totals(pull_rows, lambda label, which=which: label.endswith(which))
        print(f"pull {which} total: {sql} SQL" + (f", {calls} S3 requests" if s3 else ""))
    print(f"pull count flush (once a second per worker, any number of pulls): {len(flush)} SQL")
    if s3_calls is not None:
        print(f"S3 requests by operation: {dict(s3_calls)}")


if __name__ == "__main__":
    main()
