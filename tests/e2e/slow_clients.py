"""Slow clients, heavy transfers and a latency probe against a real server, each its own process.

    python -m tests.e2e.slow_clients attack URL TOKEN REPO --heads 100 --bodies 100 --duration 20
    python -m tests.e2e.slow_clients probe URL TOKEN PATH... --count 250
    python -m tests.e2e.slow_clients transfers URL TOKEN REPO --pushers 8 --pullers 8 --mib 256

Each prints one JSON document on stdout. The attack uses raw sockets in asyncio: one request
line, then one header line a second (heads), or a real upload PATCH whose body comes at 1 KiB a
second (bodies, half with Content-Length, half chunked as docker sends it); a connection the
server closes is opened again, so the pressure stays on for the whole duration. The probe is a
plain sequential client on keep-alive connections, as docker's manifest requests are. Used by
tests/e2e/test_slow_clients.py and bench/slow_clients.py.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import http.client
import json
import math
import os
import signal
import socket
import sys
import threading
import time
import urllib.parse
import urllib.request

MiB = 1024 * 1024
MANIFEST_TYPES = (
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json"
)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile: p99 of 250 values is the third slowest."""
    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]


def summary(latencies: list[float]) -> dict:
    if not latencies:  # a stalled server: not one request answered within the budget
        return {"count": 0, "p50_ms": None, "p99_ms": None, "max_ms": None}
    return {
        "count": len(latencies),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "max_ms": round(max(latencies) * 1000, 2),
    }


def _split(url: str) -> tuple[str, int]:
    parts = urllib.parse.urlsplit(url)
    return parts.hostname, parts.port or 80


def _request(url: str, method: str, path: str, token: str, body: bytes = b"", headers=None):
    request = urllib.request.Request(url + path, data=body or None, method=method)  # noqa: S310
    request.add_header("Authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 - loopback
        return answer.status, dict(answer.headers), answer.read()


def start_upload(url: str, token: str, repo: str) -> str:
    """A new upload session's path (and query)."""
    _status, headers, _ = _request(url, "POST", f"/v2/{repo}/blobs/uploads/", token)
    location = urllib.parse.urlsplit(headers["Location"])
    return location.path + (f"?{location.query}" if location.query else "")


def push_blob(url: str, token: str, repo: str, data: bytes) -> str:
    """A monolithic upload (POST, then PUT with the body); the blob's digest."""
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    location = start_upload(url, token, repo)
    separator = "&" if "?" in location else "?"
    headers = {"Content-Type": "application/octet-stream"}
    _request(url, "PUT", f"{location}{separator}digest={digest}", token, data, headers)
    return digest


def push_small_image(url: str, token: str, repo: str, tag: str, *, padding: int = 0) -> str:
    """An OCI image of one small layer under `tag` (its manifest `padding` bytes larger, in an
    annotation): the manifest path to GET."""
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {}}).encode()
    layer = os.urandom(4096)
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": push_blob(url, token, repo, config),
            "size": len(config),
        },
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": push_blob(url, token, repo, layer),
                "size": len(layer),
            }
        ],
    }
    if padding:
        manifest["annotations"] = {"org.example.padding": "p" * padding}
    path = f"/v2/{repo}/manifests/{tag}"
    headers = {"Content-Type": manifest["mediaType"]}
    _request(url, "PUT", path, token, json.dumps(manifest).encode(), headers)
    return path


# The attack: slow heads and slow bodies.


async def _outcome(reader: asyncio.StreamReader, first: bytes) -> str:
    """What the server did, given the first bytes it sent (b"": it closed)."""
    if not first:
        return "closed"
    status = first.split(b"\r\n", 1)[0].decode(errors="replace")
    try:  # the rest of the answer, then the close
        while await asyncio.wait_for(reader.read(65536), timeout=5):
            pass
    except (TimeoutError, OSError):
        return f"answer without close: {status}"
    return status.split(" ", 2)[1] if status.startswith("HTTP/") else f"odd: {status}"


async def _slow_connection(host, port, head: bytes, pieces, interval: float) -> tuple[str, int]:
    """Send `head`, then one piece per interval, until the server answers or closes."""
    reader, writer = await asyncio.open_connection(host, port)
    sent = 0
    try:
        writer.write(head)
        for piece in pieces:
            try:
                first = await asyncio.wait_for(reader.read(65536), timeout=interval)
            except TimeoutError:
                writer.write(piece)
                await writer.drain()
                sent += len(piece)
                continue
            return await _outcome(reader, first), sent
        return "client ran out of bytes", sent
    except (ConnectionResetError, BrokenPipeError):
        return "reset", sent
    finally:
        writer.close()


def _head_lines():
    number = 0
    while True:
        number += 1
        yield f"X-Slow-{number}: {'x' * 20}\r\n".encode()


def _body_pieces(chunked: bool, size: int = 1024):
    data = b"z" * size
    framed = f"{size:x}\r\n".encode() + data + b"\r\n" if chunked else data
    while True:
        yield framed


async def _slot(kind, host, port, build, deadline, records, interval):
    while time.monotonic() < deadline:
        head, pieces = build()
        started = time.monotonic()
        try:
            outcome, sent = await _slow_connection(host, port, head, pieces, interval)
        except OSError as exc:
            outcome, sent = f"connect failed: {exc}", 0
        ended = time.monotonic()
        if ended >= deadline and outcome == "client ran out of bytes":
            outcome = "open at the end"
        records.append(
            {
                "kind": kind,
                "started": started,
                "seconds": round(ended - started, 2),
                "outcome": outcome,
                "sent": sent,
            }
        )


async def _attack(url, token, repo, heads, bodies, duration, interval):
    host, port = _split(url)
    authority = f"{host}:{port}"
    deadline = time.monotonic() + duration
    records: list[dict] = []
    locations = [start_upload(url, token, repo) for _ in range(bodies)]

    def head_request():
        head = f"GET /v2/ HTTP/1.1\r\nHost: {authority}\r\n".encode()
        return head, _limited(_head_lines(), deadline, interval)

    def body_request(location, chunked):
        def build():
            framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {64 * MiB}"
            head = (
                f"PATCH {location} HTTP/1.1\r\nHost: {authority}\r\n"
                f"Authorization: Bearer {token}\r\nContent-Type: application/octet-stream\r\n"
                f"{framing}\r\n\r\n"
            ).encode()
            return head, _limited(_body_pieces(chunked), deadline, interval)

        return build

    slots = [
        _slot("head", host, port, head_request, deadline, records, interval) for _ in range(heads)
    ]
    slots += [
        _slot("body", host, port, body_request(loc, i % 2 == 1), deadline, records, interval)
        for i, loc in enumerate(locations)
    ]
    began = time.monotonic()
    await asyncio.gather(*slots)
    for record in records:
        record["started"] = round(record["started"] - began, 2)
    return records


def _limited(pieces, deadline, interval):
    """The pieces, until the attack's deadline (checked before each one is sent)."""
    for piece in pieces:
        if time.monotonic() > deadline:
            return
        yield piece


# The probe: latency of short requests.


def probe(url, token, paths, count, interval, warmup, timeout=10.0, budget=120.0):
    """GET each path `count` times, interleaved, one request at a time on a keep-alive
    connection per path; latency by path. A request that fails or takes over `timeout` s (a
    stalled server) counts as `timeout` s and as an error; it stops after `budget` s."""
    stop = time.monotonic() + budget
    host, port = _split(url)
    connections = {path: http.client.HTTPConnection(host, port, timeout=timeout) for path in paths}
    headers = {"Authorization": f"Bearer {token}", "Accept": MANIFEST_TYPES}
    latencies: dict[str, list[float]] = {path: [] for path in paths}
    statuses: dict[str, dict[str, int]] = {path: {} for path in paths}
    for round_number in range(warmup + count):
        if time.monotonic() > stop:
            break
        for path in paths:
            connection = connections[path]
            started = time.perf_counter()
            try:
                connection.request("GET", path, headers=headers)
                answer = connection.getresponse()
                answer.read()
                status = str(answer.status)
                if answer.will_close:
                    connection.close()
            except OSError as exc:
                status = type(exc).__name__
                connection.close()
            elapsed = min(time.perf_counter() - started, timeout)
            if round_number >= warmup:
                latencies[path].append(elapsed)
            key = status if round_number >= warmup else f"warm-up {status}"
            statuses[path][key] = statuses[path].get(key, 0) + 1
            time.sleep(interval)
    return {path: {**summary(latencies[path]), "statuses": statuses[path]} for path in paths}


# Transfers: parallel pushes and pulls of large blobs.


def _push(url: str, token: str, repo: str, data: memoryview, digest: str) -> None:
    """One blob upload as docker does it: POST, one streamed chunked PATCH, PUT ?digest=."""
    host, port = _split(url)
    location = start_upload(url, token, repo)
    with socket.create_connection((host, port), timeout=60) as sock:
        sock.sendall(
            (
                f"PATCH {location} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Authorization: Bearer {token}\r\nContent-Type: application/octet-stream\r\n"
                "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            ).encode()
        )
        step = MiB
        for offset in range(0, len(data), step):
            piece = data[offset : offset + step]
            sock.sendall(f"{len(piece):x}\r\n".encode())
            sock.sendall(piece)
            sock.sendall(b"\r\n")
        sock.sendall(b"0\r\n\r\n")
        answer = http.client.HTTPResponse(sock)
        answer.begin()
        answer.read()
        if answer.status != 202:
            raise RuntimeError(f"PATCH answered {answer.status}")
        location = urllib.parse.urlsplit(answer.getheader("Location"))
    query = f"{location.query}&" if location.query else ""
    status, _, _ = _request(url, "PUT", f"{location.path}?{query}digest={digest}", token)
    if status != 201:
        raise RuntimeError(f"PUT answered {status}")


def _pull(url: str, token: str, repo: str, digest: str, size: int) -> None:
    host, port = _split(url)
    connection = http.client.HTTPConnection(host, port, timeout=60)
    connection.request(
        "GET", f"/v2/{repo}/blobs/{digest}", headers={"Authorization": f"Bearer {token}"}
    )
    answer = connection.getresponse()
    buffer = bytearray(MiB)
    received = 0
    while count := answer.readinto(buffer):
        received += count
    connection.close()
    if answer.status != 200 or received != size:
        raise RuntimeError(f"GET answered {answer.status} with {received} of {size} bytes")


def transfers(url, token, repo, pushers, pullers, mib, duration, seed_digest):
    """Push (pushers) and pull (pullers) `mib` MiB blobs in parallel until `duration` ends."""
    size = mib * MiB
    data = memoryview(os.urandom(size))
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    if not seed_digest:
        _push(url, token, repo, data, digest)
    pulled = seed_digest or digest
    deadline = time.monotonic() + duration
    done = {"pushes": 0, "pulls": 0, "errors": []}
    lock = threading.Lock()
    stop = threading.Event()  # SIGTERM: finish the transfers under way, then report
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def loop(kind):
        while time.monotonic() < deadline and not stop.is_set():
            try:
                if kind == "pushes":
                    _push(url, token, repo, data, digest)
                else:
                    _pull(url, token, repo, pulled, size)
            except Exception as exc:  # noqa: BLE001 - reported, the test fails on it
                with lock:
                    done["errors"].append(repr(exc)[:300])
                return
            with lock:
                done[kind] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=loop, args=("pushes",)) for _ in range(pushers)]
    threads += [threading.Thread(target=loop, args=("pulls",)) for _ in range(pullers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    moved = (done["pushes"] + done["pulls"]) * size
    return {**done, "seconds": round(elapsed, 1), "MiB_per_s": round(moved / MiB / elapsed, 1)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    attack = commands.add_parser("attack")
    attack.add_argument("url")
    attack.add_argument("token")
    attack.add_argument("repo")
    attack.add_argument("--heads", type=int, default=100)
    attack.add_argument("--bodies", type=int, default=100)
    attack.add_argument("--duration", type=float, default=20)
    attack.add_argument("--interval", type=float, default=1.0)
    prober = commands.add_parser("probe")
    prober.add_argument("url")
    prober.add_argument("token")
    prober.add_argument("paths", nargs="+")
    prober.add_argument("--count", type=int, default=250)
    prober.add_argument("--interval", type=float, default=0.02)
    prober.add_argument("--warmup", type=int, default=20)
    prober.add_argument("--budget", type=float, default=120)
    mover = commands.add_parser("transfers")
    mover.add_argument("url")
    mover.add_argument("token")
    mover.add_argument("repo")
    mover.add_argument("--pushers", type=int, default=8)
    mover.add_argument("--pullers", type=int, default=8)
    mover.add_argument("--mib", type=int, default=256)
    mover.add_argument("--duration", type=float, default=30)
    mover.add_argument("--seed-digest", default="")
    args = parser.parse_args(argv)
    if args.command == "attack":
        result = asyncio.run(
            _attack(
                args.url,
                args.token,
                args.repo,
                args.heads,
                args.bodies,
                args.duration,
                args.interval,
            )
        )
    elif args.command == "probe":
        result = probe(
            args.url,
            args.token,
            args.paths,
            args.count,
            args.interval,
            args.warmup,
            budget=args.budget,
        )
    else:
        result = transfers(
            args.url,
            args.token,
            args.repo,
            args.pushers,
            args.pullers,
            args.mib,
            args.duration,
            args.seed_digest,
        )
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
