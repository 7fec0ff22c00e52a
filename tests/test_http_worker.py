"""The event loop's reading of request framing and its slowness rule (config/http_worker.py).

The worker itself is tested against the real server in tests/e2e/test_slow_clients.py."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.http_worker import ClientLimits, chunked_body_complete, read_framing


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
