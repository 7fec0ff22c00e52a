"""Request bodies read straight from gunicorn's socket (registry_api.streams): real gunicorn
request parsing over a socket pair, a real Django WSGIRequest on gunicorn's environ.

Checks the bytes, the framing corner cases, and that gunicorn's connection stays consistent:
the request after a body read to its end parses, and a body left unfinished closes the
connection instead of being parsed as a request.
"""

from __future__ import annotations

import os
import socket
import threading

import pytest
from django.core.handlers.wsgi import WSGIRequest
from gunicorn.config import Config
from gunicorn.http.body import LengthReader
from gunicorn.http.errors import NoMoreData
from gunicorn.http.parser import RequestParser
from gunicorn.http.wsgi import create

from registry_api import streams
from registry_api.streams import CHUNK_SIZE, BodyInvalid, request_chunks

NEXT_REQUEST = b"GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n"


def chunked(pieces: list[bytes], *, extension: bytes = b"", trailers: bytes = b"") -> bytes:
    framed = b"".join(b"%x%s\r\n%s\r\n" % (len(p), extension, p) for p in pieces)
    return framed + b"0\r\n" + trailers + b"\r\n"


def request_bytes(body: bytes, *, chunked_body: bool) -> bytes:
    framing = (
        b"Transfer-Encoding: chunked\r\n" if chunked_body else b"Content-Length: %d\r\n" % len(body)
    )
    return (
        b"PATCH /v2/alice/app/blobs/uploads/x HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/octet-stream\r\n" + framing + b"\r\n" + body
    )


class Connection:
    """A client socket feeding gunicorn's parser on the server end of a socket pair."""

    def __init__(self, data: bytes, *, piece: int | None = None, close: bool = True):
        self.client, self.server = socket.socketpair()
        self.server.settimeout(10)
        self.sender = threading.Thread(target=self._send, args=(data, piece, close), daemon=True)
        self.sender.start()
        self.cfg = Config()
        self.parser = RequestParser(self.cfg, self.server, ("127.0.0.1", 1))

    def _send(self, data: bytes, piece: int | None, close: bool) -> None:
        try:
            if piece is None:
                self.client.sendall(data)
            else:
                for offset in range(0, len(data), piece):
                    self.client.sendall(data[offset : offset + piece])
        except OSError:
            return
        if close:
            self.client.shutdown(socket.SHUT_WR)

    def request(self) -> WSGIRequest:
        message = next(self.parser)
        _, environ = create(message, self.server, ("127.0.0.1", 1), ("127.0.0.1", 8000), self.cfg)
        return WSGIRequest(environ)

    def close(self) -> None:
        self.client.close()
        self.server.close()
        self.sender.join(timeout=10)


@pytest.fixture
def connections():
    opened = []

    def open_connection(data: bytes, **kwargs) -> Connection:
        connection = Connection(data, **kwargs)
        opened.append(connection)
        return connection

    yield open_connection
    for connection in opened:
        connection.close()


def read_all(request) -> bytes:
    return b"".join(request_chunks(request))


@pytest.mark.parametrize("piece", [None, 1, 7, 65536])
def test_a_chunked_body_arrives_whole_and_the_next_request_parses(connections, piece):
    payload = os.urandom(3 * 1024 * 1024 + 17)
    sizes = [1, 2, 32 * 1024, 5, 1024 * 1024 + 3, 70 * 1024]
    pieces, offset = [], 0
    for size in sizes:
        pieces.append(payload[offset : offset + size])
        offset += size
    pieces.append(payload[offset:])
    # Byte-by-byte delivery of a multi-megabyte body is slow: split that case's body smaller.
    if piece == 1:
        payload, pieces = (
            payload[:200_000],
            [payload[:1], payload[1:70_000], payload[70_000:200_000]],
        )
    body = chunked(pieces, extension=b";name=value", trailers=b"X-Trailer: 1\r\n")
    connection = connections(request_bytes(body, chunked_body=True) + NEXT_REQUEST, piece=piece)
    request = connection.request()
    chunks = list(request_chunks(request))
    assert read_from_the_socket(request)
    assert b"".join(chunks) == payload
    assert max(len(chunk) for chunk in chunks) <= CHUNK_SIZE
    following = connection.request()
    assert (following.method, following.path) == ("GET", "/v2/")


def read_from_the_socket(request) -> bool:
    """The body was read by SocketBody to its end: gunicorn's reader now reads as empty."""
    reader = request.META["wsgi.input"].reader
    return isinstance(reader, LengthReader) and reader.length == 0


def test_a_sized_body_arrives_whole_and_the_next_request_parses(connections):
    payload = os.urandom(2 * 1024 * 1024 + 5)
    connection = connections(request_bytes(payload, chunked_body=False) + NEXT_REQUEST)
    request = connection.request()
    assert read_all(request) == payload
    assert read_from_the_socket(request)
    following = connection.request()
    assert (following.method, following.path) == ("GET", "/v2/")


def test_a_sized_body_cut_short_yields_what_came(connections):
    payload = os.urandom(100_000)
    data = request_bytes(payload, chunked_body=False)
    connection = connections(data[: len(data) - 1000])
    assert read_all(connection.request()) == payload[:-1000]


@pytest.mark.parametrize(
    "body",
    [
        b"zz\r\nabc\r\n0\r\n\r\n",  # not hex
        b"\r\nabc\r\n0\r\n\r\n",  # empty size
        b"3\r\nabcdef\r\n0\r\n\r\n",  # data longer than its size
        b"3\r\nabc\r\n" + b"1" * 5000 + b"\r\n",  # a size line past the limit
        b"10\r\nabc",  # the client stops before the end
    ],
)
def test_a_malformed_or_cut_chunked_body_is_a_registry_error(connections, body):
    connection = connections(request_bytes(body, chunked_body=True))
    with pytest.raises(BodyInvalid):
        read_all(connection.request())


def test_a_body_left_unfinished_is_dropped_before_the_next_request(connections):
    body = chunked([os.urandom(3 * 1024 * 1024)])
    connection = connections(request_bytes(body, chunked_body=True) + NEXT_REQUEST, close=False)
    chunks = request_chunks(connection.request())
    next(chunks)
    chunks.close()  # e.g. the upload was refused midway
    # gunicorn discards an unread body before the next request: the rest is read and dropped.
    following = connection.request()
    assert (following.method, following.path) == ("GET", "/v2/")


def test_a_long_body_left_unfinished_closes_the_connection(connections, monkeypatch):
    monkeypatch.setattr(streams, "DRAIN_MAX_BYTES", 256 * 1024)
    body = chunked([os.urandom(3 * 1024 * 1024)])
    connection = connections(request_bytes(body, chunked_body=True) + NEXT_REQUEST, close=False)
    chunks = request_chunks(connection.request())
    next(chunks)
    chunks.close()
    # Past DRAIN_MAX_BYTES gunicorn stops there (and closes) instead of parsing body bytes.
    with pytest.raises(NoMoreData):
        connection.request()


def test_a_body_never_read_is_dropped_too(connections):
    payload = os.urandom(100_000)
    connection = connections(request_bytes(payload, chunked_body=False) + NEXT_REQUEST)
    request_chunks(connection.request())  # taken over, then refused before a byte was read
    following = connection.request()
    assert (following.method, following.path) == ("GET", "/v2/")


def test_a_read_timeout_is_a_registry_error(connections):
    body = chunked([b"x" * 10])[:-5]  # never completed, and the client keeps the socket open
    connection = connections(request_bytes(body, chunked_body=True), close=False)
    connection.server.settimeout(0.2)
    with pytest.raises(BodyInvalid, match="incomplete"):
        read_all(connection.request())
