"""Where an S3 pull's time goes in the object store: one streamed GetObject read in chunks of a
given size, against ranged GETs of a given size with several in flight, on a fresh SeaweedFS.

    .venv/bin/python bench/s3_gets.py [--mib 256] [--rounds 2] [--cases stream1,stream4,8x2,8x4]

`streamN`: one GetObject, `iter_chunks(N MiB)` (what S3BlobStore.chunks does with N = 1);
`PxF`: ranged GetObjects of P MiB, F in flight, read in order. Bytes from memory, no Django,
no client socket: the object store's side of a pull and the client library's cost.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MiB = 1024 * 1024


def stream(client, bucket: str, key: str, size: int, chunk: int) -> int:
    body = client.get_object(Bucket=bucket, Key=key)["Body"]
    return sum(len(piece) for piece in body.iter_chunks(chunk))


def ranged(client, bucket: str, key: str, size: int, part: int, in_flight: int) -> int:
    def get(start: int) -> int:
        end = min(start + part, size) - 1
        body = client.get_object(Bucket=bucket, Key=key, Range=f"bytes={start}-{end}")["Body"]
        return sum(len(piece) for piece in body.iter_chunks(MiB))

    with ThreadPoolExecutor(in_flight) as pool:
        return sum(pool.map(get, range(0, size, part)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--cases", default="stream1,stream4,8x2,8x4")
    args = parser.parse_args()

    from tests.s3 import SeaweedFS, s3_client

    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    size = args.mib * MiB
    with tempfile.TemporaryDirectory(prefix="s3gets-") as tmp:
        seaweed = SeaweedFS(Path(tmp)).start()
        try:
            client = s3_client(seaweed.endpoint_url, max_pool_connections=16)
            bucket, key = seaweed.bucket, "bench/blob"
            client.upload_fileobj(io.BytesIO(os.urandom(size)), bucket, key)
            print(f"load {os.getloadavg()[0]:.1f}", flush=True)
            for case in args.cases.split(","):
                times = []
                for _ in range(args.rounds):
                    started = time.perf_counter()
                    if case.startswith("stream"):
                        got = stream(client, bucket, key, size, int(case[6:]) * MiB)
                    else:
                        part, flight = (int(x) for x in case.split("x"))
                        got = ranged(client, bucket, key, size, part * MiB, flight)
                    times.append(time.perf_counter() - started)
                    if got != size:
                        raise SystemExit(f"{case}: read {got} of {size} bytes")
                seconds = statistics.median(times)
                print(
                    f"{case:8s} {args.mib / seconds:6.0f} MiB/s ({seconds:.2f} s),"
                    f" load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
        finally:
            seaweed.stop()


if __name__ == "__main__":
    main()
