"""Reading a request body as a stream, whatever its framing, in pieces of at most 64 KiB.

Under gunicorn the body is read straight from the client's socket: `recv_into` a reused 1 MiB
buffer, and the `Transfer-Encoding: chunked` framing (the docker CLI sends layer PATCHes that
way, in chunks of about 32 KiB) is parsed over that buffer. gunicorn's own body reader reads the
socket 8 KiB at a time and hands the body out 1 KiB at a time through three layers of BytesIO,
and Django's LimitedStream wraps that again; for a 256 MiB layer that was a quarter of a push's
time (bench/README.md). The socket's timeout applies to every read, as it did to gunicorn's.

gunicorn keeps its connection objects, so the takeover leaves them consistent: bytes gunicorn had
read ahead are taken first, bytes read past the end of the body (a pipelined request) are given
back, and a body left unfinished (a request refused midway) is dropped when gunicorn looks for
the next request, up to DRAIN_MAX_BYTES; past that gunicorn closes the connection instead of
parsing the rest of the body as a request.

Any other WSGI server (Django's test client, runserver) is read through `wsgi.input`.
"""

from __future__ import annotations

import inspect
import io
from collections.abc import Iterator

from gunicorn.http.body import Body, ChunkedReader, LengthReader
from gunicorn.http.errors import NoMoreData
from gunicorn.http.unreader import SocketUnreader

from registry_api.errors import BlobUploadInvalid

# What each read of the socket may take (one system call for up to this much)...
RECEIVE_BUFFER = 1024 * 1024
# ...and the most bytes handed out at once. Each piece is hashed and written while it is still
# in the CPU's cache, and a write this size gets small page-cache folios: on a VM whose memory
# the host backs lazily (Firecracker here), 1 MiB writes asked the kernel for large folios from
# memory never touched before and ran at 100–300 MiB/s, 64 KiB writes at 1.8–2.9 GiB/s
# (bench/README.md).
CHUNK_SIZE = 64 * 1024
# A chunk-size line (with its extensions) or a trailer line longer than this is refused.
LINE_MAX = 4096
_HEX = frozenset(b"0123456789abcdefABCDEF")


class BodyInvalid(BlobUploadInvalid):
    """The body's framing is malformed, or the client stopped sending before its end."""


def request_has_length(request) -> bool:
    return bool(request.META.get("CONTENT_LENGTH"))


def request_chunks(request, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Yield the body in chunks of at most chunk_size bytes, in constant memory."""
    body = _socket_body(request)
    if body is not None:
        return body.chunks(chunk_size)
    return _stream_chunks(request, chunk_size)


def _stream_chunks(request, chunk_size: int) -> Iterator[bytes]:
    # Django reads nothing without a Content-Length; the server de-chunks wsgi.input itself.
    stream = request if request_has_length(request) else request.META.get("wsgi.input", request)
    while chunk := stream.read(chunk_size):
        yield chunk


# A body left unfinished (the request was refused midway) is read on and dropped up to this much
# when gunicorn looks for the next request, so a client still sending reads the answer instead of
# a connection reset; past it the connection is closed (Go's net/http drains 256 KiB).
DRAIN_MAX_BYTES = 16 * 1024 * 1024


class _Unfinished:
    """gunicorn's body reader while the body belongs to a SocketBody. Called by gunicorn only
    before it parses the next request on the connection: the rest of the body is dropped (up to
    DRAIN_MAX_BYTES), else the connection closes instead of parsing body bytes as a request."""

    def __init__(self, body: SocketBody):
        self.body = body

    def read(self, size):
        drained = 0
        try:
            for piece in self.body.chunks():  # where the last reader stopped
                drained += len(piece)
                if drained > DRAIN_MAX_BYTES:
                    break
            else:
                if self.body.complete:
                    return b""  # gunicorn's reader now reads as the end of the body
        except BodyInvalid:
            pass
        raise NoMoreData(b"request body left unread")


def _socket_body(request) -> SocketBody | None:
    """A SocketBody on gunicorn's untouched request body, else None."""
    if getattr(request, "_read_started", False):
        return None
    stream = request.META.get("wsgi.input")
    if not isinstance(stream, Body) or stream.buf.tell():
        return None
    reader = stream.reader
    if isinstance(reader, ChunkedReader):
        if reader.buf.tell() or inspect.getgeneratorstate(reader.parser) != "GEN_CREATED":
            return None
        unreader, length = getattr(reader.req, "unreader", None), None
    elif isinstance(reader, LengthReader):
        unreader, length = reader.unreader, reader.length
    else:
        return None
    if not isinstance(unreader, SocketUnreader):
        return None
    ahead = unreader.buf.getvalue()
    unreader.buf = io.BytesIO()

    def finished(extra: bytes) -> None:
        unreader.unread(extra)
        stream.reader = LengthReader(unreader, 0)  # reads as the end of the body

    body = SocketBody(unreader.sock, ahead, length, finished)
    stream.reader = _Unfinished(body)
    return body


class SocketBody:
    """A request body read from a socket: `length` bytes, or chunked framing when None.

    `ahead` holds bytes already read from the socket; `finished(extra)` is called once the body
    has been read to its end, with what was read past it.
    """

    def __init__(self, sock, ahead: bytes, length: int | None, finished):
        self._sock = sock
        self._chunked = length is None
        self._after_data = False  # chunked: a chunk's data was read, its CRLF comes next
        self._left = 0 if length is None else length  # bytes of data before the next framing
        self._buffer = bytearray(max(RECEIVE_BUFFER, len(ahead)))
        self._buffer[: len(ahead)] = ahead
        self._start, self._end = 0, len(ahead)  # received bytes not yet parsed
        self._finished = finished
        self.complete = False  # read to its end

    def _receive(self) -> None:
        """Read more from the socket into the buffer, after what is not yet parsed."""
        buffer = self._buffer
        if self._start:
            pending = self._end - self._start
            buffer[:pending] = buffer[self._start : self._end]
            self._start, self._end = 0, pending
        if self._end == len(buffer):
            raise BodyInvalid(message="chunked framing line too long")
        received = self._recv_into(memoryview(buffer)[self._end :])
        if not received:
            raise BodyInvalid(message="request body incomplete")
        self._end += received

    def _line(self) -> bytes:
        """The next CRLF-terminated framing line, without its CRLF."""
        while True:
            index = self._buffer.find(b"\r\n", self._start, self._end)
            if index >= 0:
                if index - self._start > LINE_MAX:
                    raise BodyInvalid(message="chunked framing line too long")
                line = bytes(self._buffer[self._start : index])
                self._start = index + 2
                return line
            if self._end - self._start > LINE_MAX:
                raise BodyInvalid(message="chunked framing line too long")
            self._receive()

    def _next_chunk_size(self) -> int:
        size, _, _extensions = self._line().partition(b";")
        size = size.rstrip(b" \t")
        if not size or not _HEX.issuperset(size) or len(size) > 16:
            raise BodyInvalid(message="invalid chunk size")
        return int(size, 16)

    def chunks(self, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        buffer = self._buffer
        while True:
            if self._left == 0 and (not self._chunked or not self._next_chunk()):
                break
            if self._start == self._end:
                self._start = self._end = 0
                received = self._recv_into(memoryview(buffer))
                if not received:  # a sized body cut short: the caller sees too few bytes
                    return
                self._end = received
            take = min(self._left, self._end - self._start, chunk_size)
            piece = bytes(buffer[self._start : self._start + take])
            self._start += take  # before the yield: a reader that stops here has taken it
            self._left -= take
            yield piece
        self.complete = True
        self._finished(bytes(buffer[self._start : self._end]))

    def _next_chunk(self) -> bool:
        """Parse the framing before the next chunk's data; False after the last chunk."""
        if self._after_data and self._line():  # a chunk's data ends with CRLF
            raise BodyInvalid(message="chunk data longer than its size")
        self._after_data = True
        self._left = self._next_chunk_size()
        if self._left == 0:
            while self._line():  # trailer fields, up to the empty line
                pass
            return False
        return True

    def _recv_into(self, target) -> int:
        try:
            received = self._sock.recv_into(target)
        except OSError as exc:  # a timeout or a reset
            raise BodyInvalid(message=f"request body incomplete: {exc}") from exc
        if not received and self._chunked:
            raise BodyInvalid(message="request body incomplete")
        return received
