"""The response for a stored blob (`GET`/`HEAD`): local repositories and mirrored ones alike."""

from __future__ import annotations

import re

from django.conf import settings
from django.http import FileResponse, HttpResponse, HttpResponseRedirect, StreamingHttpResponse

from registry_api import storage
from registry_api.errors import BlobUnknown, RangeInvalid

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
        if byte_range is not None:
            start, end = byte_range
            response = StreamingHttpResponse(
                blobs.range_chunks(blob.digest, start, end), status=206
            )
            response["Content-Range"] = f"bytes {start}-{end}/{blob.size}"
            response["Content-Length"] = str(end - start + 1)
        elif (local := blobs.open_local(blob.digest)) is not None:
            # A real file: gunicorn serves it with sendfile.
            response = FileResponse(local, content_type="application/octet-stream")
            if response.has_header("Content-Disposition"):
                del response["Content-Disposition"]
            response["Content-Length"] = str(blob.size)
        else:
            response = StreamingHttpResponse(blobs.chunks(blob.digest))
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
