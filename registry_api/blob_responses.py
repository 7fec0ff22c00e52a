"""The response for a stored blob (`GET`/`HEAD`): local repositories and mirrored ones alike."""

from __future__ import annotations

import queue
import re
import threading
from collections.abc import Iterator

from django.conf import settings
from django.http import FileResponse, HttpResponse, HttpResponseRedirect, StreamingHttpResponse

from registry_api import storage
from registry_api.errors import BlobUnknown, RangeInvalid

# Chunks (of storage.READ_CHUNK, 1 MiB) read ahead of the client from a remote store.
READ_AHEAD_CHUNKS = 4
_END = object()


class _Failed:
    def __init__(self, error: BaseException):
        self.error = error


def _read_ahead(chunks: Iterator[bytes], depth: int = READ_AHEAD_CHUNKS) -> Iterator[bytes]:
    """The same chunks, read by a helper thread up to `depth` ahead of the client.

    Without it a pull from the object store alternates: wait for the next MiB from S3, then wait
    for the client to take it. With it both transfers run at once (the reads and the socket
    writes release the GIL). The helper stops, and closes the source, when the client goes.
    """
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def fill() -> None:
        try:
            for chunk in chunks:
                if not put(chunk):
                    break
            else:
                put(_END)
        except Exception as exc:  # noqa: BLE001 - handed to the response's thread
            put(_Failed(exc))
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    threading.Thread(target=fill, name="blob-read-ahead", daemon=True).start()
    try:
        while (item := ready.get()) is not _END:
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stop.set()


_RANGE = re.compile(r"^bytes=(\d{0,19})-(\d{0,19})\Z")


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The inclusive (start, end) a single-range `Range` header asks for; None for no header.
    RangeInvalid when it is malformed, multi-range or unsatisfiable."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if not match or not (match.group(1) or match.group(2)):
        raise RangeInvalid({"Range": header[:100]}, headers={"Content-Range": f"bytes */{size}"})
    first, last = match.group(1), match.group(2)
    if first:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    else:  # suffix range: the last N bytes
        start, end = max(size - int(last), 0), size - 1
    if start >= size or end < start or (last and first and int(last) < start):
        raise RangeInvalid({"Range": header[:100]}, headers={"Content-Range": f"bytes */{size}"})
    return start, end


def _blob_headers(response, blob) -> None:
    response["Docker-Content-Digest"] = blob.digest
    response["Content-Type"] = "application/octet-stream"
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = f'"{blob.digest}"'
    response["Cache-Control"] = "max-age=31536000"


def _blob_get(request, blob):
    blobs = storage.blobs()
    if settings.REGISTRY_BLOB_REDIRECT and (url := blobs.redirect_url(blob.digest)):
        response = HttpResponseRedirect(url, status=307)
        response["Docker-Content-Digest"] = blob.digest
        return response
    byte_range = _byte_range(request.META.get("HTTP_RANGE", ""), blob.size)
    try:
        local = blobs.open_local(blob.digest)  # None for a remote store (S3)
        if byte_range is not None:
            start, end = byte_range
            if local is not None:
                local.close()
            chunks = blobs.range_chunks(blob.digest, start, end)
            response = StreamingHttpResponse(
                chunks if local is not None else _read_ahead(chunks), status=206
            )
            response["Content-Range"] = f"bytes {start}-{end}/{blob.size}"
            response["Content-Length"] = str(end - start + 1)
        elif local is not None:
            # A real file: gunicorn serves it with sendfile.
            response = FileResponse(local, content_type="application/octet-stream")
            if response.has_header("Content-Disposition"):
                del response["Content-Disposition"]
            response["Content-Length"] = str(blob.size)
        else:
            response = StreamingHttpResponse(_read_ahead(blobs.chunks(blob.digest)))
            response["Content-Length"] = str(blob.size)
    except FileNotFoundError as exc:
        raise BlobUnknown({"digest": blob.digest}) from exc
    _blob_headers(response, blob)
    return response


def stored_blob_response(request, blob):
    """`HEAD`: the headers alone; `GET`: the bytes (a `Range`, a redirect to storage, or all)."""
    if request.method == "HEAD":
        response = HttpResponse(status=200)
        _blob_headers(response, blob)
        response["Content-Length"] = str(blob.size)
        return response
    return _blob_get(request, blob)
