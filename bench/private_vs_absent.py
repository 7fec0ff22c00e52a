#!/usr/bin/env python3
"""Timing oracle check: does an anonymous `GET /v2/<name>/tags/list` tell a private repository
from an absent one? `.venv/bin/python bench/private_vs_absent.py [--requests 400]`

Starts Dockyard as `make run` serves it (a temporary DATA_DIR; DATABASE_URL from the environment
or SQLite), makes one private repository, then sends the two requests interleaved on one
keep-alive connection and compares their median latencies. Exits 1 when they differ by 10 % or
more of the private one's median.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.server import Server  # noqa: E402

PATHS = {"private": "/v2/owner/secret/tags/list", "absent": "/v2/owner/nothing/tags/list"}


def measure(server: Server, requests: int) -> dict[str, float]:
    connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
    samples: dict[str, list[float]] = {kind: [] for kind in PATHS}
    for _warm_up in range(20):
        for path in PATHS.values():
            connection.request("GET", path)
            connection.getresponse().read()
    for _round in range(requests):
        for kind, path in PATHS.items():
            started = time.perf_counter()
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            samples[kind].append(time.perf_counter() - started)
            if response.status != 401:
                raise RuntimeError(f"{path} answered {response.status}, not 401")
    connection.close()
    return {kind: statistics.median(values) for kind, values in samples.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="requests of each kind")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dockyard-oracle-") as data_dir:
        server = Server(Path(data_dir), env={"WEB_WORKERS": "1"})
        server.start()
        try:
            server.create_user("owner", "a long enough password")
            server.python(
                "from hub.models import Namespace, Repository\n"
                "Repository.objects.create(namespace=Namespace.objects.get(name='owner'),"
                " name='secret', is_private=True)\n"
            )
            medians = measure(server, args.requests)
        finally:
            server.stop()
    difference = abs(medians["private"] - medians["absent"]) / medians["private"]
    print(
        f"median private {medians['private'] * 1000:.3f} ms, absent "
        f"{medians['absent'] * 1000:.3f} ms, difference {difference:.1%} "
        f"({args.requests} interleaved requests each)"
    )
    return 0 if difference < 0.10 else 1


if __name__ == "__main__":
    sys.exit(main())
