"""An S3 push's phases, Dockyard and the reference in turn on one SeaweedFS: the PATCH (body
to staging) and the PUT (seal, copy, record), and peak RSS.

    .venv/bin/python bench/s3_push_phases.py [--mib 256] [--rounds 3] [--py-spy PATH]

With --py-spy, Dockyard's workers are sampled during its pushes (raw stacks in /tmp).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import (  # noqa: E402
    PASSWORD,
    REPOSITORY,
    USER,
    Blob,
    MiB,
    PeakRSS,
    S3Reference,
    _dockyard_env,
    expect,
    gunicorn_workers,
    patch_chunked,
    put_digest,
)
from tests.e2e.server import Server  # noqa: E402
from tests.e2e.tools import registry_token  # noqa: E402


def push_phases(base: str, headers: dict, blob: Blob) -> tuple[float, float]:
    with requests.Session() as session:
        session.headers.update(headers)
        start = expect(session.post(f"{base}/v2/{REPOSITORY}/blobs/uploads/", timeout=60), 202)
        started = time.perf_counter()
        location = patch_chunked(base, headers, start.headers["Location"], blob)
        patched = time.perf_counter()
        put_digest(session, location, blob)
        return patched - started, time.perf_counter() - patched


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--py-spy", dest="py_spy")
    parser.add_argument("--only", choices=("dockyard", "reference"))
    args = parser.parse_args()
    from tests.s3 import SeaweedFS

    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    with tempfile.TemporaryDirectory(prefix="s3phases-") as tmp:
        tmp = Path(tmp)
        seaweed = SeaweedFS(tmp / "seaweedfs", bucket="dockyard").start()
        seaweed.client().create_bucket(Bucket="reference")
        servers = {}
        try:
            env = _dockyard_env()
            env.update(seaweed.server_env())
            env["REGISTRY_BLOB_REDIRECT"] = "false"
            servers["dockyard"] = Server(tmp / "dockyard", env=env).start()
            servers["dockyard"].create_user(USER, PASSWORD)
            servers["reference"] = S3Reference(
                tmp / "reference", seaweed, "reference", False
            ).start()
            time.sleep(2)
            names = [n for n in ("dockyard", "reference") if args.only in (None, n)]
            times = {name: [] for name in names}
            for round_number in range(args.rounds):
                blob = Blob(args.mib * MiB)
                for name in names if round_number % 2 == 0 else names[::-1]:
                    server = servers[name]
                    headers = {}
                    if name == "dockyard":
                        token = registry_token(
                            server.url, f"repository:{REPOSITORY}:pull,push", auth=(USER, PASSWORD)
                        )
                        headers = {"Authorization": f"Bearer {token}"}
                        pids = lambda s=server: gunicorn_workers(s.process.pid)  # noqa: E731
                    else:
                        pids = lambda s=server: [s.process.pid]  # noqa: E731
                    spies = []
                    if args.py_spy and name == "dockyard":
                        for pid in pids():
                            out = f"/tmp/s3phases-{round_number}-{pid}.txt"
                            spies.append(
                                subprocess.Popen(
                                    [
                                        args.py_spy,
                                        "record",
                                        "-p",
                                        str(pid),
                                        "-r",
                                        "200",
                                        "-f",
                                        "raw",
                                        "-o",
                                        out,
                                        "--threads",
                                        "--idle",
                                    ],
                                    stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL,
                                )
                            )
                        time.sleep(1.5)
                    with PeakRSS(pids) as sampler:
                        patch, put = push_phases(server.url, headers, blob)
                    for spy in spies:
                        spy.send_signal(2)
                        spy.wait(30)
                    times[name].append((patch, put, sampler.peak / MiB))
                    print(
                        f"[{round_number + 1}] {name:9s} PATCH {patch:5.2f} s  PUT {put:5.2f} s"
                        f"  total {args.mib / (patch + put):5.0f} MiB/s  peak RSS"
                        f" {sampler.peak / MiB:.0f} MiB  load {os.getloadavg()[0]:.1f}",
                        flush=True,
                    )
            for name, rows in times.items():
                patch = statistics.median(r[0] for r in rows)
                put = statistics.median(r[1] for r in rows)
                total = statistics.median(args.mib / (r[0] + r[1]) for r in rows)
                print(f"median {name:9s} PATCH {patch:5.2f} s  PUT {put:5.2f} s  {total:.0f} MiB/s")
        finally:
            for server in servers.values():
                server.stop()
            seaweed.stop()


if __name__ == "__main__":
    main()
