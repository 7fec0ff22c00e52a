#!/usr/bin/env python3
"""Dockyard against the reference registry (CNCF Distribution 2.8), in one run: `make bench`.

Starts Dockyard exactly as `make run` does (scripts/run.sh: gunicorn + Celery, SQLite and
filesystem storage under a temporary DATA_DIR) and `docker-registry serve` (filesystem storage,
no auth) on free loopback ports, then measures for each:

- push throughput of one blob (default 256 MiB): POST, one streamed PATCH, PUT ?digest=;
- pull throughput of that blob: GET, streamed;
- manifest GETs per second: N client threads (spread over a few processes so that the client's
  GIL is not the bottleneck) for D seconds, with a Bearer token for Dockyard;
- Dockyard's peak memory during the push: the sum of the gunicorn workers' RSS, sampled from /proc.

Prints both and their ratios (Dockyard / reference; > 1 means Dockyard is faster, or for memory
uses more), and writes the figures as JSON into bench/results/.

`--baseline DIR` compares manifest GETs only, of another checkout of Dockyard (DIR, with its
own .venv) and of this one, with the reference registry as a third arm: all three run at once
(idle between their turns) and are measured in alternating rounds (A B R, then B A R, ...), so
that the load of a shared machine falls on each alike.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import multiprocessing
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from config.env import env_bool  # noqa: E402
from tests.e2e.reference import ReferenceRegistry  # noqa: E402
from tests.e2e.server import Server, wait_for_http  # noqa: E402
from tests.e2e.tools import registry_token  # noqa: E402

MiB = 1024 * 1024
CHUNK = 4 * MiB
USER, PASSWORD = "bench", "bench-Passw0rd-bench"
REPOSITORY = "bench/blob"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


# -- the blob: a 4 MiB random block repeated, with a per-run prefix so nothing is deduplicated


class Blob:
    """`size` bytes sent in pieces of `piece` bytes (each one chunk of the chunked PATCH)."""

    _block = os.urandom(CHUNK)

    def __init__(self, size: int, piece: int = CHUNK):
        self.size = size
        self.piece = piece
        self.first = os.urandom(64) + self._block[64:]
        digest = hashlib.sha256()
        for chunk in self.chunks():
            digest.update(chunk)
        self.digest = "sha256:" + digest.hexdigest()

    def chunks(self):
        left = self.size
        first = True
        while left > 0:
            block = memoryview(self.first if first else self._block)[:left]
            first = False
            left -= len(block)
            for offset in range(0, len(block), self.piece):
                yield block[offset : offset + self.piece]


# -- memory: the gunicorn workers under the server's process tree


def _proc_table() -> dict[int, tuple[int, str]]:
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        table[int(entry)] = (ppid, cmdline)
    return table


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def descendants(root_pid: int, table: dict | None = None) -> list[int]:
    """Every process under root_pid (gunicorn, its workers, the Celery worker)."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in (table or _proc_table()).items():
        children.setdefault(ppid, []).append(pid)
    found, stack = [], [root_pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def gunicorn_workers(root_pid: int) -> list[int]:
    """Descendants of root_pid that are gunicorn processes whose parent is gunicorn too."""
    table = _proc_table()
    return [
        pid
        for pid in descendants(root_pid, table)
        if "gunicorn" in table[pid][1] and "gunicorn" in table.get(table[pid][0], (0, ""))[1]
    ]


class PeakRSS:
    """Samples the summed RSS of some processes every 20 ms while active."""

    def __init__(self, pids_of):
        self.pids_of = pids_of
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        pids = self.pids_of()
        while not self._stop.is_set():
            self.peak = max(self.peak, sum(_rss_bytes(pid) for pid in pids))
            self._stop.wait(0.02)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids) -> float:
    """User + system CPU time the processes (all their threads) have used so far."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICKS


def rss_total(pids) -> int:
    return sum(_rss_bytes(pid) for pid in pids)


# -- the measurements


class BenchError(RuntimeError):
    pass


def expect(answer: requests.Response, status: int) -> requests.Response:
    if answer.status_code != status:
        request = answer.request
        raise BenchError(f"{request.method} {answer.url}: {answer.status_code} {answer.text}")
    return answer


def _absolute(base: str, location: str) -> str:
    return urllib.parse.urljoin(base + "/", location)


def _split(url: str) -> tuple[str, int, str]:
    parts = urllib.parse.urlsplit(url)
    return parts.hostname, parts.port or 80, parts.path + (f"?{parts.query}" if parts.query else "")


def _send(sock, buffers: list) -> None:
    """One sendmsg of a chunk's framing and data; what it did not take, sent after."""
    sent = sock.sendmsg(buffers)
    if sent < sum(len(buffer) for buffer in buffers):
        sock.sendall(b"".join(bytes(buffer) for buffer in buffers)[sent:])


# The clients below send and receive with as few copies as Python allows (sendmsg of each chunk's
# framing and data, readinto one buffer), so that on two shared cores the client's own CPU takes
# less from the servers it measures; both servers get the same client.


def patch_chunked(base: str, headers: dict, location: str, blob: Blob) -> str:
    """One streamed (chunked) PATCH of the whole blob to an upload session; the next Location."""
    host, port, path = _split(_absolute(base, location))
    connection = http.client.HTTPConnection(host, port, timeout=600)
    try:
        connection.putrequest("PATCH", path, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.putheader("Content-Type", "application/octet-stream")
        connection.putheader("Transfer-Encoding", "chunked")
        connection.endheaders()
        for piece in blob.chunks():
            _send(connection.sock, [b"%x\r\n" % len(piece), piece, b"\r\n"])
        connection.sock.sendall(b"0\r\n\r\n")
        answer = connection.getresponse()
        text = answer.read()
        if answer.status != 202:
            raise BenchError(f"PATCH {path}: {answer.status} {text[:300]!r}")
        return _absolute(base, answer.getheader("Location"))
    finally:
        connection.close()


def put_digest(session, location: str, blob: Blob) -> None:
    separator = "&" if "?" in location else "?"
    expect(session.put(f"{location}{separator}digest={blob.digest}", timeout=600), 201)


def push_blob(base: str, headers: dict, blob: Blob) -> float:
    """POST, one streamed (chunked) PATCH, PUT ?digest=; returns seconds."""
    with requests.Session() as session:
        session.headers.update(headers)
        started = time.perf_counter()
        start = expect(session.post(f"{base}/v2/{REPOSITORY}/blobs/uploads/", timeout=60), 202)
        location = patch_chunked(base, headers, start.headers["Location"], blob)
        put_digest(session, location, blob)
        return time.perf_counter() - started


def pull_blob(base: str, headers: dict, blob: Blob) -> float:
    """GET the blob (following a redirect to storage, without the registry's token)."""
    started = time.perf_counter()
    url = f"{base}/v2/{REPOSITORY}/blobs/{blob.digest}"
    for _hop in range(3):
        host, port, path = _split(url)
        connection = http.client.HTTPConnection(host, port, timeout=600)
        same_host = url.startswith(base)
        connection.request("GET", path, headers=headers if same_host else {})
        answer = connection.getresponse()
        if answer.status not in (301, 302, 303, 307, 308):
            break
        url = urllib.parse.urljoin(url, answer.getheader("Location"))
        answer.read()
        connection.close()
    try:
        if answer.status != 200:
            raise BenchError(f"GET {url}: {answer.status} {answer.read()[:300]!r}")
        view = memoryview(bytearray(CHUNK))
        received = 0
        while count := answer.readinto(view):
            received += count
    finally:
        connection.close()
    elapsed = time.perf_counter() - started
    if received != blob.size:
        raise BenchError(f"pulled {received} bytes, expected {blob.size}")
    return elapsed


def put_manifest(base: str, headers: dict, blob: Blob) -> str:
    """A config blob and a manifest whose one layer is the big blob, tagged `latest`."""
    config = json.dumps(
        {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}
    ).encode()
    config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
    start = requests.post(f"{base}/v2/{REPOSITORY}/blobs/uploads/", headers=headers, timeout=60)
    expect(start, 202)
    location = _absolute(base, start.headers["Location"])
    separator = "&" if "?" in location else "?"
    upload = requests.put(
        f"{location}{separator}digest={config_digest}",
        data=config,
        headers={**headers, "Content-Type": "application/octet-stream"},
        timeout=60,
    )
    expect(upload, 201)
    manifest = {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "digest": config_digest,
            "size": len(config),
        },
        "layers": [
            {
                "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "digest": blob.digest,
                "size": blob.size,
            }
        ],
    }
    answer = requests.put(
        f"{base}/v2/{REPOSITORY}/manifests/latest",
        data=json.dumps(manifest).encode(),
        headers={**headers, "Content-Type": DOCKER_MANIFEST},
        timeout=60,
    )
    return expect(answer, 201).headers.get("Docker-Content-Digest", "")


def _manifest_worker(args) -> tuple[int, int, list[float]]:
    """One client process: `threads` keep-alive connections GETting the manifest until `until`."""
    host, port, headers, threads, until, path = args
    counts, errors, latencies = [0] * threads, [0] * threads, [[] for _ in range(threads)]

    def loop(index: int):
        connection = http.client.HTTPConnection(host, port, timeout=30)
        while time.time() < until:
            started = time.perf_counter()
            try:
                connection.request("GET", path, headers=headers)
                answer = connection.getresponse()
                answer.read()
                if answer.status == 200:
                    counts[index] += 1
                    latencies[index].append(time.perf_counter() - started)
                else:
                    errors[index] += 1
                if answer.will_close:
                    connection.close()
                    connection = http.client.HTTPConnection(host, port, timeout=30)
            except (OSError, http.client.HTTPException):
                errors[index] += 1
                connection.close()
                connection = http.client.HTTPConnection(host, port, timeout=30)
        connection.close()

    workers = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(counts), sum(errors), [x for chunk in latencies for x in chunk]


def manifest_gets(
    address: str,
    headers: dict,
    concurrency: int,
    duration: float,
    path: str = f"/v2/{REPOSITORY}/manifests/latest",
) -> dict:
    host, port = address.rsplit(":", 1)
    processes = min(4, concurrency)
    per_process = [
        concurrency // processes + (i < concurrency % processes) for i in range(processes)
    ]
    headers = {**headers, "Accept": DOCKER_MANIFEST}
    started = time.time()
    until = started + duration
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        results = pool.map(
            _manifest_worker,
            [(host, int(port), headers, threads, until, path) for threads in per_process],
        )
    elapsed = time.time() - started
    ok = sum(count for count, _, _ in results)
    latencies = sorted(x for _, _, chunk in results for x in chunk)

    def percentile(p: float) -> float:
        if not latencies:
            return 0.0
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {
        "requests": ok,
        "errors": sum(errors for _, errors, _ in results),
        "per_second": ok / elapsed,
        "p50_ms": percentile(0.50),
        "p99_ms": percentile(0.99),
    }


def measure(
    name: str, base: str, address: str, auth_headers, blob: Blob, args, rss_pids, settle=None
):
    """One turn of one registry: push a fresh blob, pull it, manifest GETs. auth_headers(scope)
    -> headers; settle() waits for the work a push starts in the background and returns its
    (seconds, CPU seconds)."""
    load_before = os.getloadavg()[0]
    print(f"[{name}] push {blob.size // MiB} MiB …", flush=True)
    push_headers = auth_headers(f"repository:{REPOSITORY}:pull,push")
    pids = rss_pids()
    idle_rss = rss_total(pids)
    cpu = [cpu_seconds(pids)]
    with PeakRSS(rss_pids) as sampler:
        push_seconds = push_blob(base, push_headers, blob)
    peak_rss = sampler.peak
    cpu.append(cpu_seconds(pids))
    put_manifest(base, push_headers, blob)
    settle_seconds, background_cpu = settle() if settle is not None else (0.0, 0.0)
    pull_headers = auth_headers(f"repository:{REPOSITORY}:pull")
    print(f"[{name}] pull …", flush=True)
    cpu.append(cpu_seconds(pids))
    pull_seconds = pull_blob(base, pull_headers, blob)
    cpu.append(cpu_seconds(pids))
    print(f"[{name}] manifest GETs, {args.concurrency} clients, {args.duration:g}s …", flush=True)
    gets = manifest_gets(address, pull_headers, args.concurrency, args.duration)
    cpu.append(cpu_seconds(pids))
    gets["per_cpu_second"] = gets["requests"] / max(cpu[4] - cpu[3], 1e-9)
    result = {
        "push_seconds": push_seconds,
        "push_mib_per_s": blob.size / MiB / push_seconds,
        "push_cpu_seconds": cpu[1] - cpu[0],
        "settle_seconds": settle_seconds,
        "background_cpu_seconds": background_cpu,
        "pull_seconds": pull_seconds,
        "pull_mib_per_s": blob.size / MiB / pull_seconds,
        "pull_cpu_seconds": cpu[3] - cpu[2],
        "manifest_gets": gets,
        "load_average": [load_before, os.getloadavg()[0]],
    }
    result["idle_rss_mib"] = idle_rss / MiB
    result["peak_rss_during_push_mib"] = peak_rss / MiB
    result["rss_growth_during_push_mib"] = (peak_rss - idle_rss) / MiB
    print(
        f"[{name}] push {result['push_mib_per_s']:.0f} MiB/s ({result['push_cpu_seconds']:.2f}"
        f" CPU s), pull {result['pull_mib_per_s']:.0f} MiB/s ({result['pull_cpu_seconds']:.2f}"
        f" CPU s), {gets['per_second']:.0f} GET/s ({gets['per_cpu_second']:.0f} per CPU s),"
        f" RSS +{result['rss_growth_during_push_mib']:.0f} MiB, load {load_before:.1f}",
        flush=True,
    )
    return result


def dockyard_settle(server, timeout: float = 60) -> tuple[float, float]:
    """Wait for what a push starts in the background (the scan of the new image, its SBOM
    referrer) to end, so that the pull is timed on an idle server as the reference's is; returns
    (seconds waited, CPU seconds the server's processes used meanwhile)."""
    pids = descendants(server.process.pid)
    started, cpu_before = time.perf_counter(), cpu_seconds(pids)
    if env_bool("SCAN_ON_PUSH", True):  # the server inherits this environment (Server.env)
        namespace, name = REPOSITORY.split("/", 1)
        url = f"{server.url}/api/v1/repositories/{namespace}/{name}/tags/latest/vulnerabilities/"
        while time.perf_counter() - started < timeout:
            answer = requests.get(url, auth=(USER, PASSWORD), timeout=10)
            if answer.ok and answer.json().get("scanned"):
                break
            time.sleep(0.05)
        else:
            raise BenchError(f"the scan of {REPOSITORY}:latest did not finish in {timeout:g} s")
    # Then until the processes are quiet: under 10 ms of CPU in 100 ms (at most 5 s more).
    quiet_deadline = time.perf_counter() + 5
    last = cpu_seconds(pids)
    while time.perf_counter() < quiet_deadline:
        time.sleep(0.1)
        now = cpu_seconds(pids)
        if now - last < 0.01:
            break
        last = now
    return time.perf_counter() - started, cpu_seconds(pids) - cpu_before


class CheckoutServer(Server):
    """A Dockyard started from another checkout: its scripts/run.sh, code and .venv."""

    def __init__(self, root: Path, data_dir: Path, env: dict):
        super().__init__(data_dir, env=env)
        self.root = root

    def start(self, command: list[str] | None = None) -> CheckoutServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            command or [str(self.root / "scripts" / "run.sh")],
            cwd=self.root,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for_http(self.url + "/v2/", process=self.process)
        return self

    def manage(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run(
            [str(self.root / ".venv" / "bin" / "python"), "manage.py", *args],
            cwd=self.root,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed: {result.stderr}")
        return result.stdout


def _dockyard_env() -> dict:
    # As `make run` serves it: scripts/run.sh, SQLite and blobs under DATA_DIR, no Redis.
    # Access logs are off on both sides so that neither pays for a log line per request.
    env = {"DATABASE_URL": "", "REDIS_URL": "", "CELERY_BROKER_URL": "", "ACCESS_LOG": "0"}
    # The e2e Server pins WEB_WORKERS=2 for tests; the benchmark lets the environment choose.
    env.update(
        {key: os.environ[key] for key in ("WEB_WORKERS", "WEB_THREADS") if key in os.environ}
    )
    return env


def _manifest_ready(server, blob: Blob, dockyard: bool) -> dict:
    """Push a blob and the manifest tagged `latest`; return the headers of a pull."""
    if dockyard:
        server.create_user(USER, PASSWORD)

    def headers(scope: str) -> dict:
        if not dockyard:
            return {}
        token = registry_token(server.url, scope, auth=(USER, PASSWORD))
        return {"Authorization": f"Bearer {token}"}

    push_headers = headers(f"repository:{REPOSITORY}:pull,push")
    push_blob(server.url, push_headers, blob)
    put_manifest(server.url, push_headers, blob)
    return headers(f"repository:{REPOSITORY}:pull")


def ab_run(args) -> dict:
    """Manifest GETs/s of the baseline checkout, this checkout and the reference, interleaved."""
    blob = Blob(MiB)
    results: dict = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "baseline": str(args.baseline),
        "baseline_commit": _commit(args.baseline),
        "current_commit": _commit(ROOT),
        "concurrency": args.concurrency,
        "duration_s": args.duration,
        "rounds": args.rounds,
        "arms": {},
    }
    with tempfile.TemporaryDirectory(prefix="dockyard-bench-") as tmp:
        tmp = Path(tmp)
        servers = {
            "baseline": CheckoutServer(args.baseline.resolve(), tmp / "baseline", _dockyard_env()),
            "current": Server(tmp / "current", env=_dockyard_env()),
        }
        if ReferenceRegistry.available() and args.only != "dockyard":
            servers["reference"] = ReferenceRegistry(tmp / "reference")
        headers = {}
        try:
            for name, server in servers.items():
                print(f"[{name}] start, push a manifest …", flush=True)
                server.start()
                headers[name] = _manifest_ready(server, blob, dockyard=name != "reference")
            time.sleep(2)  # let the freshly started workers settle
            order = [name for name in ("baseline", "current") if name in servers]
            for round_number in range(args.rounds):
                arms = order if round_number % 2 == 0 else order[::-1]
                if "reference" in servers:
                    arms = [*arms, "reference"]
                for name in arms:
                    gets = manifest_gets(
                        servers[name].address, headers[name], args.concurrency, args.duration
                    )
                    print(
                        f"[round {round_number + 1}] {name}: {gets['per_second']:.0f} GET/s, "
                        f"p99 {gets['p99_ms']:.0f} ms, {gets['errors']} errors",
                        flush=True,
                    )
                    results["arms"].setdefault(name, []).append(gets)
        finally:
            for server in servers.values():
                server.stop()
    return results


def _commit(root: Path) -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def ab_report(results: dict) -> str:
    rows = [("", *(f"round {i + 1}" for i in range(results["rounds"])), "median", "p99 median")]
    medians = {}
    for name, rounds in results["arms"].items():
        rates = [gets["per_second"] for gets in rounds]
        medians[name] = statistics.median(rates)
        p99 = statistics.median(gets["p99_ms"] for gets in rounds)
        label = f"{name} ({results.get(name + '_commit', '')})".replace(" ()", "")
        rows.append(
            (label, *(f"{rate:.0f}" for rate in rates), f"{medians[name]:.0f}", f"{p99:.0f} ms")
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(
        0, f"manifest GETs/s, {results['concurrency']} clients, {results['duration_s']:g} s a round"
    )
    if "baseline" in medians and "current" in medians:
        lines.append(
            f"current / baseline (medians): {medians['current'] / medians['baseline']:.2f}x"
        )
    if "reference" in medians and "current" in medians:
        lines.append(
            f"current / reference (medians): {medians['current'] / medians['reference']:.2f}x"
        )
    return "\n".join(lines)


class S3Reference(ReferenceRegistry):
    """The reference registry on S3 (its `s3` storage driver), redirects as chosen."""

    def __init__(self, directory: Path, seaweed, bucket: str, redirect: bool):
        super().__init__(directory)
        self.seaweed, self.bucket, self.redirect = seaweed, bucket, redirect

    def config_text(self) -> str:
        from tests.s3 import ACCESS_KEY, REGION, SECRET_KEY

        return S3_REFERENCE_CONFIG.format(
            endpoint=self.seaweed.endpoint_url,
            bucket=self.bucket,
            access=ACCESS_KEY,
            secret=SECRET_KEY,
            region=REGION,
            redirect_disabled="false" if self.redirect else "true",
            port=self.port,
        )

    def environment(self) -> dict[str, str]:
        # aws-sdk-go refuses to start when AWS_CA_BUNDLE is set (a custom transport); the
        # endpoint is plain HTTP on loopback, so no bundle is needed.
        env = super().environment()
        env.pop("AWS_CA_BUNDLE", None)
        return env


S3_REFERENCE_CONFIG = """\
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  s3:
    regionendpoint: {endpoint}
    bucket: {bucket}
    accesskey: {access}
    secretkey: {secret}
    region: {region}
    secure: false
    v4auth: true
  delete:
    enabled: true
  redirect:
    disable: {redirect_disabled}
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:{port}
"""


def _stored_blob_files(root: Path, digest: str) -> list[Path]:
    """The file(s) holding a blob's bytes under a server's data directory (either layout)."""
    algorithm, hex_ = digest.split(":", 1)
    return [path for path in root.rglob(hex_) if algorithm in path.parts]


def _drop_blob(root: Path, digest: str) -> None:
    """Remove a round's blob from a server's filesystem storage, as garbage collection would.

    On a virtual machine the first write into memory the guest never touched costs several times
    a write into recycled pages (measured here: 150–350 MiB/s against 2–5 GiB/s), and a pushed
    blob stays in the page cache: without this every round would write into fresher memory than
    the last, and whichever server went first would pay more.
    """
    for path in _stored_blob_files(root, digest):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def run(args) -> dict:
    results: dict = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "commit": _commit(ROOT),
        "blob_mib": args.size,
        "chunk_kib": args.chunk_kib,
        "concurrency": args.concurrency,
        "duration_s": args.duration,
        "rounds": args.rounds,
        "storage": args.storage,
        "redirect": args.redirect,
        "load_average_start": os.getloadavg(),
        "arms": {},
    }
    names = [name for name in ("dockyard", "reference") if args.only in (None, name)]
    if "reference" in names and not ReferenceRegistry.available():
        sys.exit("docker-registry is not installed (apt-get install docker-registry)")
    with tempfile.TemporaryDirectory(prefix="dockyard-bench-") as tmp:
        tmp = Path(tmp)
        seaweed = None
        servers: dict = {}
        try:
            env = _dockyard_env()
            if args.storage == "s3":
                from tests.s3 import SeaweedFS

                os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
                print("[s3] start SeaweedFS …", flush=True)
                seaweed = SeaweedFS(tmp / "seaweedfs", bucket="dockyard").start()
                seaweed.client().create_bucket(Bucket="reference")
                env.update(seaweed.server_env())
                env["REGISTRY_BLOB_REDIRECT"] = "true" if args.redirect else "false"
            if "dockyard" in names:
                servers["dockyard"] = Server(tmp / "dockyard", env=env).start()
                servers["dockyard"].create_user(USER, PASSWORD)
                results["dockyard_workers"] = int(servers["dockyard"].env.get("WEB_WORKERS", "2"))
            if "reference" in names:
                if seaweed is not None:
                    reference = S3Reference(tmp / "reference", seaweed, "reference", args.redirect)
                else:
                    reference = ReferenceRegistry(tmp / "reference")
                servers["reference"] = reference.start()
            time.sleep(2)  # let the freshly started workers settle

            def headers_of(name: str):
                if name == "reference":
                    return lambda scope: {}
                url = servers[name].url

                def dockyard_headers(scope: str) -> dict:
                    token = registry_token(url, scope, auth=(USER, PASSWORD))
                    return {"Authorization": f"Bearer {token}"}

                return dockyard_headers

            def settle_of(name: str):
                if name == "reference":
                    return None
                return lambda: dockyard_settle(servers[name])

            def rss_of(name: str):
                process = servers[name].process
                if name == "reference":
                    return lambda: [process.pid]
                return lambda: gunicorn_workers(process.pid)

            for round_number in range(args.rounds):
                order = names if round_number % 2 == 0 else names[::-1]
                blob = Blob(args.size * MiB, args.chunk_kib * 1024)  # a new digest each round
                for name in order:
                    server = servers[name]
                    print(f"[round {round_number + 1}] {name}", flush=True)
                    turn = measure(
                        name,
                        server.url,
                        server.address,
                        headers_of(name),
                        blob,
                        args,
                        rss_pids=rss_of(name),
                        settle=settle_of(name),
                    )
                    results["arms"].setdefault(name, []).append(turn)
                    if args.storage == "filesystem":
                        _drop_blob(
                            server.directory if name == "reference" else server.data_dir,
                            blob.digest,
                        )
            if "dockyard" in servers:
                dockyard = servers["dockyard"]
                dockyard.stop()
                # Workers buffer pull counts and write them at the latest when they exit: every
                # GET answered 200 must be counted once the server has stopped.
                namespace, name = REPOSITORY.split("/", 1)
                counted = dockyard.python(
                    "from hub.models import Repository\n"
                    f"print(Repository.objects.get(namespace__name={namespace!r}, name={name!r})"
                    ".pull_count)"
                )
                results["dockyard_pulls_counted"] = int(counted.split()[-1])
                results["dockyard_gets_answered"] = sum(
                    turn["manifest_gets"]["requests"] for turn in results["arms"]["dockyard"]
                )
        finally:
            for server in servers.values():
                server.stop()
            if seaweed is not None:
                seaweed.stop()
    results["load_average_end"] = os.getloadavg()
    results["medians"] = {name: _medians(turns) for name, turns in results["arms"].items()}
    if len(results["medians"]) == 2:
        ours, theirs = results["medians"]["dockyard"], results["medians"]["reference"]
        results["ratios"] = {
            key: ours[key] / max(theirs[key], 1e-9)
            for key in ("push", "pull", "manifest_gets", "manifest_gets_per_cpu_second")
        }
        # CPU per transfer: > 1 means the reference needs more CPU for the same bytes.
        for key in ("push_cpu_seconds", "pull_cpu_seconds"):
            results["ratios"][key] = theirs[key] / max(ours[key], 1e-9)
    return results


FIGURES = {
    "push": lambda turn: turn["push_mib_per_s"],
    "pull": lambda turn: turn["pull_mib_per_s"],
    "manifest_gets": lambda turn: turn["manifest_gets"]["per_second"],
    "manifest_p99_ms": lambda turn: turn["manifest_gets"]["p99_ms"],
    "push_cpu_seconds": lambda turn: turn["push_cpu_seconds"],
    "pull_cpu_seconds": lambda turn: turn["pull_cpu_seconds"],
    "manifest_gets_per_cpu_second": lambda turn: turn["manifest_gets"]["per_cpu_second"],
    "settle_seconds": lambda turn: turn.get("settle_seconds", 0),
    "background_cpu_seconds": lambda turn: turn.get("background_cpu_seconds", 0),
    "peak_rss_mib": lambda turn: turn.get("peak_rss_during_push_mib", 0),
    "rss_growth_mib": lambda turn: turn.get("rss_growth_during_push_mib", 0),
}


def _medians(turns: list[dict]) -> dict:
    return {
        key: statistics.median(figure(turn) for turn in turns) for key, figure in FIGURES.items()
    }


def report(results: dict) -> str:
    rounds = results["rounds"]
    size = results["blob_mib"]
    labels = {
        "push": (f"push {size} MiB (MiB/s)", "{:.0f}"),
        "pull": (f"pull {size} MiB (MiB/s)", "{:.0f}"),
        "manifest_gets": (f"manifest GET/s ({results['concurrency']} clients)", "{:.0f}"),
        "manifest_p99_ms": ("manifest GET p99 (ms)", "{:.1f}"),
        "push_cpu_seconds": ("server CPU s per push", "{:.2f}"),
        "pull_cpu_seconds": ("server CPU s per pull", "{:.2f}"),
        "manifest_gets_per_cpu_second": ("manifest GETs per server CPU s", "{:.0f}"),
        "settle_seconds": ("after push: background work (s)", "{:.2f}"),
        "background_cpu_seconds": ("after push: its CPU s (all)", "{:.2f}"),
        "peak_rss_mib": ("peak RSS during push (MiB)", "{:.0f}"),
        "rss_growth_mib": ("RSS growth during push (MiB)", "{:.0f}"),
    }
    rows = [("", "", *(f"round {i + 1}" for i in range(rounds)), "median", "ratio")]
    ratios = results.get("ratios", {})
    for key, (label, fmt) in labels.items():
        for name, turns in results["arms"].items():
            ratio = f"{ratios[key]:.2f}x" if key in ratios and name == "dockyard" else ""
            rows.append(
                (
                    label,
                    name,
                    *(fmt.format(FIGURES[key](turn)) for turn in turns),
                    fmt.format(results["medians"][name][key]),
                    ratio,
                )
            )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
    errors = {
        name: sum(turn["manifest_gets"]["errors"] for turn in turns)
        for name, turns in results["arms"].items()
    }
    storage = results["storage"] + (", redirects on" if results["redirect"] else "")
    lines.insert(0, f"storage: {storage}; PATCH chunks of {results['chunk_kib']} KiB")
    lines.append(f"manifest GET errors: {errors}")
    if "dockyard_pulls_counted" in results:
        lines.append(
            f"pulls counted: {results['dockyard_pulls_counted']} of "
            f"{results['dockyard_gets_answered']} GETs answered 200"
        )
    start, end = results["load_average_start"], results["load_average_end"]
    lines.append(
        f"load average at start {start[0]:.1f} / {start[1]:.1f} / {start[2]:.1f}, "
        f"at end {end[0]:.1f} / {end[1]:.1f} / {end[2]:.1f}"
    )
    lines.append(
        "ratio = dockyard / reference of the medians (> 1 is faster; CPU s: reference / dockyard,"
        " > 1 is less CPU for Dockyard); RSS: dockyard's gunicorn workers summed, the reference's"
        " one process"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=256, help="blob size in MiB (256)")
    parser.add_argument("--concurrency", type=int, default=16, help="manifest GET clients (16)")
    parser.add_argument("--duration", type=float, default=10, help="manifest GET seconds (10)")
    parser.add_argument("--only", choices=("dockyard", "reference"), help="measure one side")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another checkout (with .venv): compare manifest GETs/s with it, interleaved",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds, alternating the servers' order (3)"
    )
    parser.add_argument(
        "--storage",
        choices=("filesystem", "s3"),
        default="filesystem",
        help="both servers on local files, or both on one SeaweedFS S3 (filesystem)",
    )
    parser.add_argument(
        "--redirect",
        action="store_true",
        help="S3: both answer blob GETs with a redirect to the object store (off: both proxy)",
    )
    parser.add_argument(
        "--chunk-kib",
        type=int,
        default=32,
        help="size of each chunk of the chunked PATCH (32 KiB, as docker's Go client sends)",
    )
    args = parser.parse_args()
    if args.baseline is not None:
        results = ab_run(args)
        print(ab_report(results))
    else:
        results = run(args)
        print(report(results))
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"bench-{results['when'].replace(':', '')}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written {path}")


if __name__ == "__main__":
    main()
