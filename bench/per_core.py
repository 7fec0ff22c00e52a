#!/usr/bin/env python3
"""Requests per web core: `.venv/bin/python bench/per_core.py [--duration 10] [--concurrency 8]`

Starts Dockyard as `make run` does but with one gunicorn worker (WEB_WORKERS=1, WEB_THREADS
from the environment, default 16), pushes a one-layer image, then for each kind of request sends
it from --concurrency keep-alive clients for --duration seconds and divides the requests answered
by the CPU seconds the worker process used meanwhile (user + system, all its threads, from
/proc). One worker holds one GIL, so requests per CPU second is what one core of a web host
serves; it depends little on what else runs on a shared machine, unlike requests per second.

Kinds: a manifest GET by tag with a Bearer token (docker's pull), and a token GET from the
token endpoint with a password (the first step of every docker pull and push).
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.run import (  # noqa: E402
    PASSWORD,
    REPOSITORY,
    USER,
    Blob,
    MiB,
    _dockyard_env,
    _manifest_ready,
    cpu_seconds,
    gunicorn_workers,
    manifest_gets,
)
from tests.e2e.server import Server  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    env = {**_dockyard_env(), "WEB_WORKERS": "1"}
    with tempfile.TemporaryDirectory(prefix="dockyard-per-core-") as tmp:
        server = Server(Path(tmp) / "dockyard", env=env).start()
        try:
            pull_headers = _manifest_ready(server, Blob(MiB), dockyard=True)
            time.sleep(1)
            workers = gunicorn_workers(server.process.pid)
            basic = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            challenge = requests.get(server.url + "/v2/", timeout=30).headers["WWW-Authenticate"]
            params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
            realm = urllib.parse.urlsplit(params["realm"]).path
            query = urllib.parse.urlencode(
                {"service": params["service"], "scope": f"repository:{REPOSITORY}:pull"}
            )
            kinds = {
                "manifest GET (Bearer token)": (f"/v2/{REPOSITORY}/manifests/latest", pull_headers),
                "token GET (password)": (f"{realm}?{query}", {"Authorization": f"Basic {basic}"}),
            }
            print(
                f"one worker, {os.environ.get('WEB_THREADS', '16')} threads; load average "
                f"{os.getloadavg()[0]:.1f}"
            )
            for label, (path, headers) in kinds.items():
                before = cpu_seconds(workers)
                gets = manifest_gets(
                    server.address, headers, args.concurrency, args.duration, path=path
                )
                used = cpu_seconds(workers) - before
                print(
                    f"{label:30} {gets['per_second']:7.0f}/s  {gets['requests'] / used:7.0f} per "
                    f"CPU second  p99 {gets['p99_ms']:.1f} ms  errors {gets['errors']}",
                    flush=True,
                )
            print(f"load average at the end {os.getloadavg()[0]:.1f}")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
