#!/usr/bin/env python3
"""Retention dry run over one repository of many tags: `.venv/bin/python bench/retention.py
[--tags 10000] [--rounds 5]`

Builds, in a fresh SQLite database under a temporary DATA_DIR (or DATABASE_URL from the
environment), one repository with --tags single-layer images, one tag each, pushed a minute
apart, plus a tenth as many untagged old manifests. Rows are inserted in bulk (bulk_create):
the services write one tag at a time, with a history line, an event and a cache token each,
which is what a push costs, not what a plan reads. Then it times `retention_plan` of a policy
(keep the last 100 tags of `v*`, protect `release-*`, delete untagged manifests after 7 days)
and prints the median of --rounds plans, the queries of one plan and what it lists.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _setup(data_dir: str) -> None:
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{data_dir}/bench.sqlite3")
    os.environ["DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def _build(tags: int):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from hub.models import Namespace, Repository
    from registry_api.digests import digest_bytes
    from registry_api.models import Blob, Manifest, RetentionPolicy, Tag

    user = get_user_model().objects.create_user("bench")  # no password: never signs in
    namespace = Namespace.objects.get_or_create(
        name="bench", defaults={"kind": Namespace.Kind.USER, "user": user}
    )[0]
    repository = Repository.objects.create(namespace=namespace, name="app")
    now = timezone.now()
    untagged = tags // 10
    config = Blob.objects.create(digest=digest_bytes(b"config"), size=100)
    layers = Blob.objects.bulk_create(
        Blob(digest=digest_bytes(f"layer {n}".encode()), size=1000 + n)
        for n in range(tags + untagged)
    )
    manifests = []
    for n in range(tags + untagged):
        body = json.dumps({"schemaVersion": 2, "n": n}).encode()
        manifests.append(
            Manifest(
                repository=repository,
                digest=digest_bytes(body),
                media_type="application/vnd.oci.image.manifest.v1+json",
                payload=body,
                size=len(body),
                created_at=now - timedelta(days=30),
            )
        )
    manifests = Manifest.objects.bulk_create(manifests, batch_size=1000)
    links = Manifest.blobs.through
    rows = [links(manifest_id=m.pk, blob_id=config.pk) for m in manifests]
    rows += [links(manifest_id=m.pk, blob_id=b.pk) for m, b in zip(manifests, layers, strict=True)]
    links.objects.bulk_create(rows, batch_size=2000)
    Tag.objects.bulk_create(
        (
            Tag(
                repository=repository,
                name=f"release-{n}" if n % 50 == 0 else f"v{n}",
                manifest=manifests[n],
                pushed_at=now - timedelta(minutes=tags - n),
            )
            for n in range(tags)
        ),
        batch_size=1000,
    )
    return RetentionPolicy.objects.create(
        repository=repository, tag_pattern="v*", keep_last=100, protect_pattern="release-*",
        untagged_older_than_days=7,
    )  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tags", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dockyard-retention-") as data_dir:
        _setup(data_dir)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from registry_api.services.retention import retention_plan

        started = time.perf_counter()
        policy = _build(args.tags)
        print(
            f"built {args.tags} tags in {time.perf_counter() - started:.1f} s ({connection.vendor})"
        )
        timings = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            plan = retention_plan(policy)
            timings.append(time.perf_counter() - started)
        with CaptureQueriesContext(connection) as queries:
            retention_plan(policy)
        print(
            f"retention_plan: median {statistics.median(timings) * 1000:.0f} ms "
            f"(min {min(timings) * 1000:.0f}, max {max(timings) * 1000:.0f}) over {args.rounds} "
            f"rounds, {len(queries)} queries; lists {len(plan.tags)} tags, "
            f"{len(plan.manifests)} manifests, {plan.freed_bytes} bytes"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
