"""Slow clients never stall the server (docs/architecture.md, "Serving model: slow clients").

Against Dockyard as `make run` starts it (scripts/run.sh, config/gunicorn.py: 2 workers × 16
threads), with its timeouts shortened so the test is quick: 100 clients sending a head at one
line a second and 100 sending upload bodies at 1 KiB/s, reconnecting whenever they are cut, must
not move GET /v2/ and a manifest GET past a p99 of 100 ms; each slow client is closed by the
server soon after its deadline (408, never a 500 or a hang). Then, with 8 pushes and 8 pulls of
large blobs running, a manifest GET's p99 stays under 50 ms. The attack, the transfers and the
probe each run in their own process (tests/e2e/slow_clients.py), so the measuring client never
waits on the load generator's interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter

import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import server_env
from tests.e2e.server import ROOT, Server, drop_throwaway_database
from tests.e2e.slow_clients import push_small_image
from tests.e2e.tools import registry_token

HEADER_TIMEOUT = 3
IDLE_TIMEOUT = 4
BODY_GRACE = 3
BODY_MIN_RATE = 4096
SLOW_BODY_RATE = 1024  # what the attack sends, bytes a second
# When a 1 KiB/s body falls below the minimum rate: grace + received / minimum rate.
BODY_CUT_AFTER = BODY_GRACE / (1 - SLOW_BODY_RATE / BODY_MIN_RATE)
# The loop checks deadlines once a second; the rest is scheduling on a busy machine.
SLACK = 2.5
REPO = "alice/slow"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    env = server_env(
        tmp_path_factory,
        WEB_HEADER_TIMEOUT=str(HEADER_TIMEOUT),
        WEB_IDLE_TIMEOUT=str(IDLE_TIMEOUT),
        WEB_BODY_GRACE=str(BODY_GRACE),
        WEB_BODY_MIN_RATE=str(BODY_MIN_RATE),
        TOKEN_EXPIRES_IN="3600",
    )
    instance = Server(tmp_path_factory.mktemp("slow-clients"), env=env)
    instance.start()
    try:
        instance.create_user("alice", PASSWORD)
        token = registry_token(instance.url, f"repository:{REPO}:pull,push", ("alice", PASSWORD))
        manifest = push_small_image(instance.url, token, REPO, "1")
        yield instance, token, manifest
    finally:
        instance.stop()
        drop_throwaway_database(env["DATABASE_URL"])


def _tool(*args: str, nice: int = 0) -> subprocess.Popen:
    command = [sys.executable, "-m", "tests.e2e.slow_clients", *args]
    if nice:
        command = ["nice", "-n", str(nice), *command]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _result(process: subprocess.Popen, timeout: float):
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        raise AssertionError(f"load tool hung: {err.decode()[-2000:]}") from None
    assert process.returncode == 0, err.decode()[-2000:]
    return json.loads(out)


def _probe(server, token, paths, count=250):
    return _result(_tool("probe", server.url, token, *paths, "--count", str(count)), 120)


def _assert_clean_log(server):
    log = server.log()
    for sign in ("Traceback", "Internal Server Error", '" 500 '):
        assert sign not in log, log[-4000:]


def test_slow_heads_and_bodies_cost_no_threads(guarded):
    server, token, manifest = guarded
    paths = ["/v2/", manifest]
    limits = {"head": HEADER_TIMEOUT + SLACK, "body": BODY_CUT_AFTER + SLACK}
    quiet = _probe(server, token, paths, count=100)

    duration = 30
    attack_ends = time.monotonic() + duration
    attack = _tool("attack", server.url, token, REPO, "--duration", str(duration))
    try:
        time.sleep(3)  # all 200 connected and sending
        loaded = _probe(server, token, paths)
        probe_ended = time.monotonic()
        records = _result(attack, duration + 60)
    finally:
        attack.kill()
    outcomes = Counter((r["kind"], r["outcome"]) for r in records)
    longest = {kind: max(r["seconds"] for r in records if r["kind"] == kind) for kind in limits}
    print(json.dumps({"quiet": quiet, "200 slow clients": loaded}, indent=1))
    print("slow connections:", dict(outcomes), "longest:", longest)

    assert probe_ended < attack_ends, "the probe outlasted the attack: it measured a quiet server"
    for path in paths:
        assert loaded[path]["statuses"] == {"200": loaded[path]["count"]}, loaded[path]
        assert loaded[path]["p99_ms"] < 100, (path, loaded[path], quiet[path])

    # Every slow connection was closed by the server soon after its deadline, with a 408.
    assert sum(outcomes[kind, "408"] for kind in limits) >= 200
    for record in records:
        if record["outcome"] == "open at the end":  # begun shortly before the attack ended
            assert record["started"] > duration - limits[record["kind"]], record
        else:
            assert record["outcome"] == "408", record
            assert record["seconds"] <= limits[record["kind"]], record
    # The slow bodies were cut in the event loop: no upload session got any of their bytes.
    offsets = server.python(
        "from registry_api.models import BlobUpload\n"
        "print(sorted(set(BlobUpload.objects.values_list('offset', flat=True))))"
    )
    assert offsets.strip().splitlines()[-1] == "[0]", offsets
    _assert_clean_log(server)


def test_large_pushes_and_pulls_leave_manifest_gets_fast(guarded):
    server, token, manifest = guarded
    duration = 30
    transfers_end = time.monotonic() + duration
    transfers = _tool(
        "transfers", server.url, token, REPO, "--mib", "16", "--duration", str(duration),
        nice=int(os.environ.get("XNICE", "0")),
    )
    try:
        time.sleep(4)  # the first blob pushed, every transfer running
        loaded = _probe(server, token, [manifest], count=200)
        probe_ended = time.monotonic()
        moved = _result(transfers, duration + 120)
    finally:
        transfers.kill()
    print(json.dumps({"8 pushes + 8 pulls": loaded, "transfers": moved}, indent=1))

    assert probe_ended < transfers_end, "the probe outlasted the transfers"
    assert moved["errors"] == [], moved
    assert moved["pushes"] >= 8 and moved["pulls"] >= 8, moved
    assert loaded[manifest]["p99_ms"] < 50, loaded
    _assert_clean_log(server)
