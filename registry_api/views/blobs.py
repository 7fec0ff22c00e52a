"""`GET`/`HEAD`/`DELETE /v2/<name>/blobs/<digest>`: a repository serves only the blobs it links."""

from __future__ import annotations

import re

from django.conf import settings
from django.http import FileResponse, HttpResponse, HttpResponseRedirect, StreamingHttpResponse

from registry_api import proxy, selectors, storage
from registry_api.digests import digest_parse
from registry_api.endpoint import registry_endpoint
from registry_api.errors import BlobUnknown, RangeInvalid
from registry_api.services.blobs import blob_unlink

_RANGE = re.compile(r"^bytes=(\d{0,19})-(\d{0,19})$")


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
    if settings.REGISTRY_BLOB_REDIRECT and (url := storage.blob_redirect_url(blob.digest)):
        response = HttpResponseRedirect(url, status=307)
        response["Docker-Content-Digest"] = blob.digest
        return response
    byte_range = _byte_range(request.META.get("HTTP_RANGE", ""), blob.size)
    try:
        if byte_range is not None:
            start, end = byte_range
            response = StreamingHttpResponse(
                storage.blob_range_chunks(blob.digest, start, end), status=206
            )
            response["Content-Range"] = f"bytes {start}-{end}/{blob.size}"
            response["Content-Length"] = str(end - start + 1)
        elif storage.is_filesystem():
            # A real file: gunicorn serves it with sendfile.
            response = FileResponse(
                storage.blob_open(blob.digest), content_type="application/octet-stream"
            )
            if response.has_header("Content-Disposition"):
                del response["Content-Disposition"]
            response["Content-Length"] = str(blob.size)
        else:
            response = StreamingHttpResponse(storage.blob_chunks(blob.digest))
            response["Content-Length"] = str(blob.size)
    except FileNotFoundError as exc:
        raise BlobUnknown({"digest": blob.digest}) from exc
    _blob_headers(response, blob)
    return response


@registry_endpoint(action_by_method={"GET": "pull", "HEAD": "pull", "DELETE": "delete"})
def blob(request, ctx, digest):
    digest_parse(digest)
    if request.method == "DELETE":
        if ctx.repository is None or not blob_unlink(repository=ctx.repository, digest=digest):
            raise BlobUnknown({"digest": digest})
        response = HttpResponse(status=202)
        response["Docker-Content-Digest"] = digest
        response["Content-Length"] = "0"
        return response
    found = selectors.blob_linked(repository=ctx.repository, digest=digest)
    if found is None:
        response = proxy.blob_response(ctx, digest, request)
        if response is not None:
            return response
        raise BlobUnknown({"digest": digest})
    if request.method == "HEAD":
        response = HttpResponse(status=200)
        _blob_headers(response, found)
        response["Content-Length"] = str(found.size)
        return response
    return _blob_get(request, found)
