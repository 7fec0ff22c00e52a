"""Where an S3 push's time goes in the object store: multipart parts (size, in flight),
CompleteMultipartUpload and the server-side copy, against a fresh SeaweedFS.

    .venv/bin/python bench/s3_parts.py [--mib 256] [--rounds 2]

Each case uploads the same bytes from memory (no socket, no hashing, no Django), so what it
times is the object store's side of a push and the client library's cost per part.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MiB = 1024 * 1024


def multipart(client, bucket: str, data: memoryview, part: int, in_flight: int) -> tuple:
    """(seconds for the parts, seconds for the completion, key)."""
    key = f"bench/{uuid.uuid4().hex}"
    started = time.perf_counter()
    upload = client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]

    def send(number: int) -> dict:
        body = data[(number - 1) * part : number * part]
        etag = client.upload_part(
            Bucket=bucket, Key=key, UploadId=upload, PartNumber=number, Body=bytes(body)
        )["ETag"]
        return {"PartNumber": number, "ETag": etag}

    count = -(-len(data) // part)
    with ThreadPoolExecutor(in_flight) as pool:
        parts = list(pool.map(send, range(1, count + 1)))
    sent = time.perf_counter()
    client.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": parts}
    )
    return sent - started, time.perf_counter() - sent, key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--cases", default="8x1,8x4,16x2,16x4,32x4")
    args = parser.parse_args()

    from tests.s3 import SeaweedFS, s3_client

    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    data = memoryview(os.urandom(args.mib * MiB))
    with tempfile.TemporaryDirectory(prefix="s3parts-") as tmp:
        seaweed = SeaweedFS(Path(tmp)).start()
        try:
            client = s3_client(seaweed.endpoint_url, max_pool_connections=16)
            bucket = seaweed.bucket
            print(f"load {os.getloadavg()[0]:.1f}", flush=True)
            for case in args.cases.split(","):
                part, flight = (int(x) for x in case.split("x"))
                send, complete, copy = [], [], []
                for _ in range(args.rounds):
                    s, c, key = multipart(client, bucket, data, part * MiB, flight)
                    started = time.perf_counter()
                    client.copy_object(
                        Bucket=bucket, Key=key + "-copy", CopySource={"Bucket": bucket, "Key": key}
                    )
                    copy.append(time.perf_counter() - started)
                    send.append(s)
                    complete.append(c)
                    client.delete_objects(
                        Bucket=bucket,
                        Delete={"Objects": [{"Key": key}, {"Key": key + "-copy"}]},
                    )
                s, c, k = (statistics.median(v) for v in (send, complete, copy))
                print(
                    f"part {part:3d} MiB x {flight} in flight: parts {args.mib / s:6.0f} MiB/s"
                    f" ({s:.2f} s), complete {c * 1000:6.0f} ms, copy {k:.2f} s"
                    f" ({args.mib / k:.0f} MiB/s), load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
        finally:
            seaweed.stop()


if __name__ == "__main__":
    main()
