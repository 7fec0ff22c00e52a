"""Reading a request body as a stream, whatever its framing.

Django wraps wsgi.input in a stream limited to CONTENT_LENGTH and reads nothing when that header
is absent, but the docker CLI sends layer PATCHes with `Transfer-Encoding: chunked` and no
length. gunicorn de-chunks wsgi.input itself, so without a length we read it directly.
"""

from __future__ import annotations

from collections.abc import Iterator

CHUNK_SIZE = 1024 * 1024


def request_has_length(request) -> bool:
    return bool(request.META.get("CONTENT_LENGTH"))


def request_chunks(request, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Yield the body in chunks of at most chunk_size bytes, in constant memory."""
    stream = request if request_has_length(request) else request.META.get("wsgi.input", request)
    while chunk := stream.read(chunk_size):
        yield chunk
