"""The event loop's reading of request framing, its slowness rule, and its own answers' writes
(config/http_worker.py), over real sockets.

The worker itself is tested against the real server in tests/e2e/test_slow_clients.py."""

from __future__ import annotations

import contextlib
import os
import selectors
import socket
import threading
import time
from collections import deque

import pytest
from django.core.exceptions import ImproperlyConfigured
from gunicorn.config import Config

from config.http_worker import (
    ClientConnection,
    ClientLimits,
    ClientStream,
    ReadAheadThreadWorker,
    chunked_body_complete,
    read_framing,
)


def test_a_head_is_incomplete_until_its_empty_line():
    assert read_framing(b"GET /v2/ HTTP/1.1\r\nHost: x\r\n") is None
    framing = read_framing(b"GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\nGET")
    assert framing.head_length == len(b"GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n")
    assert framing.content_length is None and not framing.chunked and not framing.unclear


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ("Content-Length: 12", {"content_length": 12}),
        ("transfer-encoding:  Chunked", {"chunked": True}),
        ("Expect: 100-continue\r\nContent-Length: 3", {"expects_continue": True}),
        # Left to gunicorn's parser, which refuses them: handed over at once.
        ("Content-Length: 1\r\nContent-Length: 2", {"unclear": True}),
        ("Content-Length: -1", {"unclear": True}),
        ("Transfer-Encoding: chunked\r\nContent-Length: 4", {"unclear": True}),
        ("Transfer-Encoding: gzip", {"unclear": True}),
    ],
)
def test_framing_headers(headers, expected):
    framing = read_framing(f"PATCH /v2/a/b/blobs/uploads/u HTTP/1.1\r\n{headers}\r\n\r\n".encode())
    for name, value in expected.items():
        assert getattr(framing, name) == value


def test_a_bare_lf_head_is_left_to_gunicorn():
    assert read_framing(b"GET / HTTP/1.1\nHost: x\n\n").unclear


@pytest.mark.parametrize(
    ("line", "transfer"),
    [
        ("GET /v2/a/b/blobs/sha256:00 HTTP/1.1", True),
        ("PATCH /v2/a/b/blobs/uploads/u HTTP/1.1\r\nContent-Length: 5", True),
        ("PUT /v2/a/b/blobs/uploads/u?digest=sha256:00 HTTP/1.1", True),
        ("POST /v2/a/b/blobs/uploads/?digest=x HTTP/1.1\r\nContent-Length: 5", True),
        ("POST /v2/a/b/blobs/uploads/ HTTP/1.1", False),  # starts a session: short
        ("GET /v2/a/b/blobs/uploads/u HTTP/1.1", False),  # upload status
        ("HEAD /v2/a/b/blobs/sha256:00 HTTP/1.1", False),
        ("GET /v2/a/b/manifests/1 HTTP/1.1", False),
    ],
)
def test_blob_transfers_are_told_apart(line, transfer):
    assert read_framing(f"{line}\r\n\r\n".encode()).transfer is transfer


@pytest.mark.parametrize(
    ("body", "complete"),
    [
        (b"", False),
        (b"5\r\nhel", False),
        (b"5\r\nhello\r\n", False),
        (b"5\r\nhello\r\n0\r\n", False),
        (b"5\r\nhello\r\n0\r\n\r\n", True),
        (b"5;ext=1\r\nhello\r\n0\r\nTrailer: t\r\n\r\n", True),
        (b"zz\r\n", None),  # not chunked framing: gunicorn answers it
    ],
)
def test_chunked_body_complete(body, complete):
    assert chunked_body_complete(body) is complete


def test_a_body_must_keep_up_with_the_minimum_rate_after_the_grace():
    limits = ClientLimits(body_grace=20, body_min_rate=4096)
    assert not limits.body_too_slow(19, 0)
    assert limits.body_too_slow(21, 0)
    # 1 KiB/s: after t seconds t KiB, allowed 20 + t/4 seconds: cut after 26.7 s.
    assert not limits.body_too_slow(26, 26 * 1024)
    assert limits.body_too_slow(27, 27 * 1024)
    assert not ClientLimits(body_min_rate=0).body_too_slow(10**6, 0)


def test_limits_come_from_the_environment(monkeypatch):
    for name in ("WEB_HEADER_TIMEOUT", "WEB_BODY_MIN_RATE", "WEB_TRANSFER_PROCESS"):
        monkeypatch.delenv(name, raising=False)
    assert ClientLimits.from_environ() == ClientLimits()
    monkeypatch.setenv("WEB_HEADER_TIMEOUT", "3")
    monkeypatch.setenv("WEB_BODY_MIN_RATE", "100")
    monkeypatch.setenv("WEB_TRANSFER_PROCESS", "0")
    limits = ClientLimits.from_environ()
    assert limits.header_timeout == 3 and limits.body_min_rate == 100
    assert not limits.transfer_process


def test_a_bad_limit_names_its_variable(monkeypatch):
    monkeypatch.setenv("WEB_IDLE_TIMEOUT", "soon")
    with pytest.raises(ImproperlyConfigured, match="WEB_IDLE_TIMEOUT"):
        ClientLimits.from_environ()


@pytest.mark.parametrize(
    ("head", "candidate"),
    [
        ("GET /v2/a/b/manifests/latest HTTP/1.1\r\nAuthorization: Bearer t", True),
        ("HEAD /v2/a/b/manifests/sha256:00 HTTP/1.1", True),
        ("GET /v2/ HTTP/1.1", True),
        # Never in the loop: a password to check (a hash's time), a containerd mirror's ?ns=
        # (an upstream to ask), a body, other routes, HTTP/1.0.
        ("GET /v2/a/b/manifests/1 HTTP/1.1\r\nAuthorization: Basic YTpi", False),
        ("GET /v2/a/b/manifests/1?ns=docker.io HTTP/1.1", False),
        ("GET /v2/a/b/manifests/1 HTTP/1.1\r\nContent-Length: 3", False),
        ("GET /v2/a/b/manifests/1 HTTP/1.1\r\nTransfer-Encoding: chunked", False),
        ("PUT /v2/a/b/manifests/1 HTTP/1.1", False),
        ("GET /v2/a/b/tags/list HTTP/1.1", False),
        ("GET /v2/a/b/blobs/sha256:00 HTTP/1.1", False),
        ("GET /v2/_catalog HTTP/1.1", False),
        ("GET / HTTP/1.1", False),
        ("GET /v2/a/b/manifests/1 HTTP/1.0", False),
    ],
)
def test_short_reads_the_loop_may_answer(head, candidate):
    framing = read_framing(f"{head}\r\nHost: x\r\n\r\n".encode())
    assert framing.loop_candidate is candidate
    assert framing.line == head.split("\r\n")[0].encode()


def _loop_worker(limits: ClientLimits) -> ReadAheadThreadWorker:
    """The worker's loop state alone (no arbiter, no application): what its methods touch."""
    worker = ReadAheadThreadWorker.__new__(ReadAheadThreadWorker)
    worker.limits, worker.alive, worker.nr_conns = limits, True, 1
    worker._lock, worker.poller = threading.RLock(), selectors.DefaultSelector()
    worker._reading, worker._writing, worker._keep = set(), set(), deque()
    worker._cuts, worker._cuts_logged = {}, time.monotonic()
    return worker


@pytest.fixture
def answered():
    """A connection the loop answered with more than its socket takes at once."""
    server_end, client_end = socket.socketpair()
    server_end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    limits = ClientLimits(idle_timeout=4)
    conn = ClientConnection(Config(), server_end, ("127.0.0.1", 1), ("127.0.0.1", 2), limits)
    stream = ClientStream(conn, limits, in_loop=True)
    answer = os.urandom(300_000)
    stream.sendall(answer)  # returns at once: the rest waits in the stream's backlog
    assert 0 < len(stream.backlog) < len(answer)
    worker = _loop_worker(limits)
    worker.poller.register(server_end, selectors.EVENT_READ, None)
    worker.send_later(conn, bytes(stream.backlog), keepalive=True)
    yield worker, conn, client_end, answer
    worker.poller.close()
    client_end.close()
    conn.close()


def test_the_loop_sends_the_rest_of_an_answer_as_the_client_reads(answered):
    worker, conn, client_end, answer = answered
    assert worker.poller.get_key(conn.raw).events == selectors.EVENT_WRITE
    received = b""
    while conn.backlog:
        received += client_end.recv(1 << 20)
        worker.on_writable(conn)
    client_end.setblocking(False)
    with contextlib.suppress(BlockingIOError):
        while chunk := client_end.recv(1 << 20):
            received += chunk
    assert received == answer
    # Then the connection waits for its next request, as a keep-alive one.
    assert conn in worker._keep and conn not in worker._writing
    assert worker.poller.get_key(conn.raw).events == selectors.EVENT_READ


def test_an_answer_nobody_reads_is_dropped_after_the_idle_timeout(answered):
    worker, conn, client_end, answer = answered
    worker.sweep(time.monotonic())
    assert conn in worker._writing  # not yet
    worker.sweep(time.monotonic() + 4.5)
    assert conn not in worker._writing and worker.nr_conns == 0
    assert worker._cuts == {"read nothing for 4 s": 1}
    received = b""
    while chunk := client_end.recv(1 << 20):  # what the kernel took, then the close
        received += chunk
    assert 0 < len(received) < len(answer) and answer.startswith(received)


def test_in_the_loop_a_read_past_the_head_is_the_end_of_input():
    server_end, client_end = socket.socketpair()
    with server_end, client_end:
        limits = ClientLimits()
        conn = ClientConnection(Config(), server_end, ("127.0.0.1", 1), ("127.0.0.1", 2), limits)
        conn.buffer += b"GET /v2/ HTTP/1.1\r\n\r\n"
        client_end.sendall(b"not read in the loop")
        stream = ClientStream(conn, limits, in_loop=True)
        assert stream.recv(8192) == b"GET /v2/ HTTP/1.1\r\n\r\n"
        assert stream.recv(8192) == b""  # never a blocking read of the socket
