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
import socket
import subprocess
import sys
import time
from collections import Counter

import pytest
import requests

from tests.conftest import PASSWORD
from tests.e2e.conftest import server_env
from tests.e2e.server import ROOT, Server, drop_throwaway_database
from tests.e2e.slow_clients import push_small_image, start_upload
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
PROBE_NICE = -10


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
    if nice:  # (nice only warns when it may not raise a priority, and runs the command)
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
    # The probe stands for a client on its own machine: when it may (root), it runs ahead of
    # this shared machine's other work, so its own wake-ups are not counted as the server's.
    probe = _tool("probe", server.url, token, *paths, "--count", str(count), nice=PROBE_NICE)
    return _result(probe, 120)


def _all_ok(figures) -> bool:
    """Every measured request (the warm-up aside) answered 200."""
    measured = {k: n for k, n in figures["statuses"].items() if not k.startswith("warm-up")}
    return measured == {"200": figures["count"]}


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
        assert _all_ok(loaded[path]), loaded[path]
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
    """The blobs are 16 MiB here (bench/slow_clients.py runs the 256 MiB version). The machine
    is shared: a burst of someone else's work can spoil one round of 200 requests, so up to
    three rounds are measured, each entirely under the transfers, and one must meet the bar."""
    server, token, manifest = guarded
    quiet = _probe(server, token, [manifest], count=200)[manifest]
    if quiet["p99_ms"] >= 50:
        pytest.skip(f"this machine is too busy to resolve a 50 ms p99: idle, it was {quiet}")
    duration = 60
    transfers_end = time.monotonic() + duration
    transfers = _tool(
        "transfers",
        server.url,
        token,
        REPO,
        "--mib",
        "16",
        "--duration",
        str(duration),
        # Clients on other machines would not take this one's CPU: on this one they yield it.
        nice=10,
    )
    rounds = []
    try:
        time.sleep(4)  # the first blob pushed, every transfer running
        while len(rounds) < 3 and (not rounds or rounds[-1]["p99_ms"] >= 50):
            rounds.append(_probe(server, token, [manifest], count=200)[manifest])
        probe_ended = time.monotonic()
        transfers.terminate()  # they finish the blobs under way and report
        moved = _result(transfers, 120)
    finally:
        transfers.kill()
    print(json.dumps({"8 pushes + 8 pulls, manifest GET": rounds, "transfers": moved}, indent=1))

    assert probe_ended < transfers_end, "the probe outlasted the transfers"
    assert moved["errors"] == [], moved
    assert moved["pushes"] >= 8 and moved["pulls"] >= 8, moved
    assert all(_all_ok(r) for r in rounds), rounds
    assert rounds[-1]["p99_ms"] < 50, rounds
    _assert_clean_log(server)


def _raw(server, data: bytes, *, then: bytes = b"", wait: float = 15) -> tuple[bytes, float]:
    """Send data (and `then` a second later), read until the server closes: (bytes, seconds)."""
    with socket.create_connection((server.host, server.port), timeout=wait) as sock:
        started = time.monotonic()
        sock.sendall(data)
        if then:
            time.sleep(1)
            sock.sendall(then)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer, time.monotonic() - started


@pytest.mark.parametrize("framing", ["sized", "chunked"])
def test_a_body_that_stalls_in_its_thread_is_cut_and_the_session_keeps_its_offset(guarded, framing):
    """64 KiB at once get the request a thread (in the transfer process); then silence."""
    server, token, _ = guarded
    location = start_upload(server.url, token, REPO)
    start = b"x" * (100 * 1024)
    if framing == "sized":
        length, body = f"Content-Length: {1024 * 1024}", start
    else:
        length, body = "Transfer-Encoding: chunked", f"{len(start):x}\r\n".encode() + start
    head = (
        f"PATCH {location} HTTP/1.1\r\nHost: {server.address}\r\n"
        f"Authorization: Bearer {token}\r\n{length}\r\n\r\n"
    ).encode()

    answer, seconds = _raw(server, head + body)

    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert IDLE_TIMEOUT - 0.5 < seconds < IDLE_TIMEOUT + SLACK
    uuid = location.split("?")[0].rsplit("/", 1)[1]
    offset = server.python(
        "from registry_api.models import BlobUpload\n"
        f"print(BlobUpload.objects.get(uuid={uuid!r}).offset)"
    )
    assert offset.strip().splitlines()[-1] == "0"
    _assert_clean_log(server)


def test_pipelined_requests_expect_continue_and_keep_alive(guarded):
    server, token, manifest = guarded
    get = f"GET /v2/ HTTP/1.1\r\nHost: {server.address}\r\nAuthorization: Bearer {token}\r\n"
    pipelined = (get + "\r\n") * 2 + get + "Connection: close\r\n\r\n"
    answer, _ = _raw(server, pipelined.encode())
    assert answer.count(b"HTTP/1.1 200 OK") == 3

    # The loop answers 100 Continue (once) before it has the body.
    data = b"m" * 1000
    location = start_upload(server.url, token, REPO)
    head = (
        f"PATCH {location} HTTP/1.1\r\nHost: {server.address}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: {len(data)}\r\n"
        "Expect: 100-continue\r\nConnection: close\r\n\r\n"
    ).encode()
    answer, _ = _raw(server, head, then=data)
    assert answer.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 "), answer[:300]
    assert answer.count(b"100 Continue") == 1

    # An idle keep-alive connection is closed after WEB_KEEPALIVE (5 s by default).
    answer, seconds = _raw(server, f"{get}\r\n".encode())
    assert answer.count(b"HTTP/1.1 200 OK") == 1 and 4.5 < seconds < 5 + SLACK
    _assert_clean_log(server)


OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _loop_answers(server) -> Counter:
    """dockyard_http_loop_answers_total by `sent`, summed over the server's processes."""
    answers = Counter()
    for line in requests.get(f"{server.url}/metrics", timeout=30).text.splitlines():
        if line.startswith("dockyard_http_loop_answers_total{"):
            labels, value = line.rsplit(" ", 1)
            answers[labels.split('sent="', 1)[1].split('"', 1)[0]] += float(value)
    return answers


def test_manifest_gets_are_answered_in_the_loop_and_see_a_moved_tag(guarded):
    server, token, _ = guarded
    path = push_small_image(server.url, token, REPO, "loop")
    headers = {"Authorization": f"Bearer {token}", "Accept": OCI_MANIFEST}
    before = _loop_answers(server)
    with requests.Session() as session:  # one keep-alive connection: one worker
        answers = [session.get(server.url + path, headers=headers, timeout=10) for _ in range(20)]
        assert {a.status_code for a in answers} == {200}
        assert len({a.headers["Docker-Content-Digest"] for a in answers}) == 1
        # The first proves the line quick in its thread; the loop answers the rest.
        assert _loop_answers(server)["at_once"] - before["at_once"] >= 10

        push_small_image(server.url, token, REPO, "loop")  # the tag moves (another connection)
        moved = session.get(server.url + path, headers=headers, timeout=10)
        assert moved.status_code == 200
        assert moved.headers["Docker-Content-Digest"] != answers[0].headers["Docker-Content-Digest"]
        assert moved.content != answers[0].content
    _assert_clean_log(server)


def test_an_answer_its_client_does_not_read_never_stalls_the_loop(guarded):
    """A 3 MiB manifest to clients that read nothing (in the loop or in a thread, whichever this
    worker learned): nobody else waits, and after the idle timeout those clients are let go.
    tests/test_http_worker.py sends an answer the socket cannot take at once from the loop."""
    server, token, small = guarded
    size = 3 * 1024 * 1024
    path = push_small_image(server.url, token, REPO, "large", padding=size)
    headers = {"Authorization": f"Bearer {token}", "Accept": OCI_MANIFEST}
    for _ in range(8):  # fresh connections, so that each worker learns the line is quick
        answer = requests.get(server.url + path, headers=headers, timeout=30)
        assert answer.status_code == 200 and len(answer.content) > size
    head = (
        f"GET {path} HTTP/1.1\r\nHost: {server.address}\r\n"
        f"Authorization: Bearer {token}\r\nAccept: {OCI_MANIFEST}\r\n\r\n"
    ).encode()
    stalled = []
    try:
        for _ in range(4):
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.connect((server.host, server.port))
            sock.sendall(head)
            stalled.append(sock)
        time.sleep(1)
        figures = _probe(server, token, ["/v2/", small], count=100)
        for probed in ("/v2/", small):
            assert _all_ok(figures[probed]), figures[probed]
            assert figures[probed]["p99_ms"] < 100, figures[probed]

        time.sleep(IDLE_TIMEOUT + SLACK)
        for sock in stalled:  # what the kernel had taken, then the server's close
            sock.settimeout(10)
            received = 0
            while chunk := sock.recv(1 << 20):
                received += len(chunk)
            assert 0 < received < size
    finally:
        for sock in stalled:
            sock.close()
    _assert_clean_log(server)
