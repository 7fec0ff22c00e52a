#!/usr/bin/env python3
"""Short requests under slow clients and under heavy transfers, full size: bench/README.md.

    .venv/bin/python bench/slow_clients.py [--mib 256] [--root DIR] [--scenario ...]

Starts Dockyard as `make run` does (scripts/run.sh from --root, default this checkout: pass a
checkout of an older commit to measure "before"), SQLite and filesystem storage in a temporary
DATA_DIR, its production timeouts (.env.example), and measures GET /v2/ and a manifest GET
(p50/p99 of --count sequential requests each, their own process) in three scenarios:

- quiet: nothing else running;
- slow: 100 clients sending a head at one line a second and 100 sending upload bodies at
  1 KiB/s, reconnecting when cut (tests/e2e/slow_clients.py attack);
The probe runs at nice -10 when it may (root), the load generators at nice 10: on one machine
they stand for clients on their own machines.

- transfers: 8 pushes and 8 pulls of --mib MiB blobs in parallel, round after round (the load
  generator at nice 10, as clients on other machines would not take this machine's CPU).

The same scenarios, shorter and with small blobs, are the e2e test tests/e2e/test_slow_clients.py.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.server import Server  # noqa: E402
from tests.e2e.slow_clients import push_small_image  # noqa: E402
from tests.e2e.tools import registry_token  # noqa: E402

USER, PASSWORD = "bench", "bench-Passw0rd-bench"
REPO = "bench/slow"


def tool(*args: str, nice: int = 0) -> subprocess.Popen:
    command = [sys.executable, "-m", "tests.e2e.slow_clients", *args]
    if nice:
        command = ["nice", "-n", str(nice), *command]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def result(process: subprocess.Popen, timeout: float):
    out, err = process.communicate(timeout=timeout)
    if process.returncode:
        raise RuntimeError(err.decode()[-2000:])
    return json.loads(out)


def probe(server, token, paths, args) -> dict:
    command = ("probe", server.url, token, *paths, "--count", str(args.count), "--warmup", "5")
    # As in the e2e test: a client on its own machine, ahead of this machine's other work.
    return result(tool(*command, "--budget", str(args.budget), nice=-10), args.budget + 60)


def scenario_slow(server, token, paths, args) -> dict:
    duration = args.budget + 15
    attack = tool("attack", server.url, token, REPO, "--duration", str(duration))
    try:
        time.sleep(5)
        measured = probe(server, token, paths, args)
        records = result(attack, duration + 60)
    finally:
        attack.kill()
    outcomes: dict[str, int] = {}
    for record in records:
        key = f"{record['kind']}: {record['outcome']}"
        outcomes[key] = outcomes.get(key, 0) + 1
    longest = {
        kind: max((r["seconds"] for r in records if r["kind"] == kind), default=0)
        for kind in ("head", "body")
    }
    return {"probe": measured, "slow connections": outcomes, "longest seconds": longest}


def scenario_transfers(server, token, paths, args) -> dict:
    duration = args.budget + 30
    transfers = tool(
        "transfers",
        server.url,
        token,
        REPO,
        "--mib",
        str(args.mib),
        "--duration",
        str(duration),
        nice=10,
    )
    try:
        time.sleep(max(5, args.mib / 20))  # the first blob pushed, the transfers under way
        measured = probe(server, token, paths[1:], args)
        moved = result(transfers, duration + 600)
    finally:
        transfers.kill()
    return {"probe": measured, "transfers": moved}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to serve")
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--count", type=int, default=250)
    parser.add_argument("--budget", type=float, default=60, help="seconds a probe may take")
    parser.add_argument(
        "--scenario", action="append", choices=("quiet", "slow", "transfers"), default=[]
    )
    args = parser.parse_args()
    scenarios = args.scenario or ["quiet", "slow", "transfers"]
    with tempfile.TemporaryDirectory(prefix="dockyard-slow-") as tmp:
        env = {
            "DATABASE_URL": f"sqlite:///{tmp}/db.sqlite3",
            "REDIS_URL": "",
            "CELERY_BROKER_URL": "",
            "TOKEN_EXPIRES_IN": "3600",
        }
        server = Server(Path(tmp) / "data", env=env)
        server.start([str(args.root / "scripts" / "run.sh")])
        try:
            server.create_user(USER, PASSWORD)
            token = registry_token(server.url, f"repository:{REPO}:pull,push", (USER, PASSWORD))
            paths = ["/v2/", push_small_image(server.url, token, REPO, "1")]
            results = {"root": str(args.root), "mib": args.mib}
            for name in scenarios:
                if name == "quiet":
                    results[name] = {"probe": probe(server, token, paths, args)}
                elif name == "slow":
                    results[name] = scenario_slow(server, token, paths, args)
                else:
                    results[name] = scenario_transfers(server, token, paths, args)
                print(name, json.dumps(results[name]), flush=True)
        finally:
            server.stop()
    for name in scenarios:
        for path, figures in results[name]["probe"].items():
            if not figures["count"]:
                print(f"{name:10} {path:28} stalled: {figures['statuses']}")
                continue
            print(
                f"{name:10} {path:28} p50 {figures['p50_ms']:8.1f} ms  p99 {figures['p99_ms']:8.1f}"
                f" ms  ({figures['count']} requests: {figures['statuses']})"
            )


if __name__ == "__main__":
    main()
