#!/usr/bin/env python3
"""A 256 MiB chunked request body read, hashed and written, in one process: gunicorn's own body
reader against registry_api.streams. `.venv/bin/python bench/body_read.py [--size 256]
[--chunk-kib 32]`

A forked sender writes the request (`Transfer-Encoding: chunked`, --chunk-kib per chunk, as
docker's Go client frames a layer PATCH) into one end of a socket pair; gunicorn's request
parser reads the headers from the other; then the body is read (1) through gunicorn's
`wsgi.input` in 1 MiB reads, as Dockyard did before, and (2) through `request_chunks`, which
reads the socket itself. Each is timed reading only, reading and hashing (sha256), and reading,
hashing and writing to a file (unlinked after each run). The CPU seconds are the reader's only.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import socket
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

MiB = 1024 * 1024


def _send(sock, size: int, piece: int) -> None:
    block = memoryview(os.urandom(4 * MiB))
    sock.sendall(
        b"PATCH /v2/x/blobs/uploads/y HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    left = size
    while left > 0:
        for offset in range(0, len(block), piece):
            data = block[offset : offset + min(piece, left)]
            sock.sendmsg([b"%x\r\n" % len(data), data, b"\r\n"])
            left -= len(data)
            if left <= 0:
                break
    sock.sendall(b"0\r\n\r\n")


class _Request:
    """What request_chunks reads of a Django request: META, and whether reading started."""

    def __init__(self, environ):
        self.META = environ
        self._read_started = False


def _run(reader: str, sink: str, size: int, piece: int, directory: str) -> str:
    from gunicorn.config import Config
    from gunicorn.http.parser import RequestParser

    from registry_api.streams import request_chunks

    ours, theirs = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        theirs.close()
        _send(ours, size, piece)
        os._exit(0)
    ours.close()
    message = next(RequestParser(Config(), theirs, ("127.0.0.1", 1)))
    hasher = hashlib.sha256()
    path = os.path.join(directory, "body")
    out = open(path, "wb", buffering=0) if "write" in sink else None  # noqa: SIM115
    before, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    if reader == "gunicorn":
        chunks = iter(lambda: message.body.read(MiB), b"")
    else:
        chunks = request_chunks(_Request({"wsgi.input": message.body}))
    received = 0
    for chunk in chunks:
        received += len(chunk)
        if "hash" in sink:
            hasher.update(chunk)
        if out is not None:
            out.write(chunk)
    elapsed, after = time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF)
    if out is not None:
        out.close()
        os.unlink(path)
    os.waitpid(pid, 0)
    theirs.close()
    if received != size:
        raise SystemExit(f"read {received} bytes, expected {size}")
    return (
        f"{reader:16} {sink:16} {size / MiB / elapsed:6.0f} MiB/s  user "
        f"{after.ru_utime - before.ru_utime:.2f} s  system {after.ru_stime - before.ru_stime:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=256, help="MiB (256)")
    parser.add_argument("--chunk-kib", type=int, default=32, help="chunk size (32 KiB)")
    args = parser.parse_args()
    import django

    django.setup()
    print(f"load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="dockyard-body-") as directory:
        for sink in ("read", "read+hash", "read+hash+write"):
            for reader in ("gunicorn", "request_chunks"):
                print(_run(reader, sink, args.size * MiB, args.chunk_kib * 1024, directory))


if __name__ == "__main__":
    main()
