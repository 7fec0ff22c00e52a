"""Blob upload sessions: `POST …/blobs/uploads/` (start, monolithic `?digest=`, cross-repository
`?mount=&from=`) and `GET`/`PATCH`/`PUT`/`DELETE …/blobs/uploads/<uuid>`.

Bodies are read from the request as a stream (never `request.body`), so memory stays constant
whatever the blob size.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.http import HttpResponse

from hub.selectors import repository_get
from registry_api.digests import digest_parse
from registry_api.endpoint import registry_endpoint
from registry_api.errors import (
    BlobTooLarge,
    BlobUploadInvalid,
    BlobUploadUnknown,
    DigestInvalid,
    RangeInvalid,
    RegistryError,
    UploadStorageUnavailable,
)
from registry_api.names import repository_resolve
from registry_api.selectors.uploads import upload_get
from registry_api.services import blobs as blob_services
from registry_api.services import uploads as upload_services
from registry_api.services.uploads import Chunk
from registry_api.streams import request_chunks

_CONTENT_RANGE = re.compile(r"^(?:bytes[ =])?(\d{1,19})-(\d{1,19})(?:/(?:\d+|\*))?\Z")


def _body(request) -> Chunk | None:
    """The request body as a stream of chunks, or None when there is no body.

    Without a Content-Length only a `Transfer-Encoding: chunked` request has one (docker's PATCH);
    request_chunks reads it, like a sized one, in constant memory.
    """
    header = request.META.get("CONTENT_LENGTH", "")
    if header:
        try:
            length = int(header)
        except ValueError as exc:
            raise BlobUploadInvalid(message="invalid Content-Length") from exc
        if length < 0:
            raise BlobUploadInvalid(message="invalid Content-Length")
        return Chunk(chunks=request_chunks(request), length=length)
    if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
        return Chunk(chunks=request_chunks(request))
    return None


def _upload_location(full_name: str, upload) -> str:
    return f"/v2/{full_name}/blobs/uploads/{upload.uuid}"


def _progress_headers(full_name: str, upload) -> dict[str, str]:
    # As distribution answers: `0-<last byte>`, `0-0` for an empty session.
    return {
        "Location": _upload_location(full_name, upload),
        "Range": f"0-{max(upload.offset - 1, 0)}",
        "Docker-Upload-UUID": str(upload.uuid),
    }


def _progress_response(full_name: str, upload, status: int) -> HttpResponse:
    response = HttpResponse(status=status)
    for name, value in _progress_headers(full_name, upload).items():
        response[name] = value
    response["Content-Length"] = "0"
    return response


def _created_response(full_name: str, digest: str) -> HttpResponse:
    response = HttpResponse(status=201)
    response["Location"] = f"/v2/{full_name}/blobs/{digest}"
    response["Docker-Content-Digest"] = digest
    response["Content-Length"] = "0"
    return response


def _mount_source(ctx, source_name: str):
    """The mount source if the caller may pull it, else None (invisible looks absent)."""
    try:
        namespace, name = repository_resolve(source_name)
    except RegistryError:
        return None
    if "pull" not in ctx.actions_on(source_name):
        return None
    return repository_get(namespace=namespace, name=name)


# Errors after which the session is where it was before the request: the client may resume.
_RESUMABLE = (RangeInvalid, BlobTooLarge, UploadStorageUnavailable)


def _with_progress(error: RegistryError, full_name: str, upload) -> RegistryError:
    """Tell the client where the session stands, so it can resume (416, 413, 507 answers)."""
    try:
        upload.refresh_from_db()
    except upload.DoesNotExist:
        return BlobUploadUnknown()
    error.headers.update(_progress_headers(full_name, upload))
    return error


@registry_endpoint(action_by_method={"POST": "push"})
def upload_start(request, ctx):
    mount = request.GET.get("mount")
    digest = request.GET.get("digest")
    if mount:
        source = _mount_source(ctx, request.GET.get("from", ""))
        if source is not None:
            try:
                digest_parse(mount)
            except DigestInvalid:
                source = None
        if source is not None:
            repository = ctx.repository_for_push()
            if blob_services.blob_mount(repository=repository, source=source, digest=mount):
                return _created_response(ctx.client_name, mount)
    elif digest is not None:
        digest_parse(digest)
        upload = upload_services.upload_start(
            repository=ctx.repository_for_push(), user=ctx.user_or_none
        )
        body = _body(request) or Chunk(chunks=(), length=0)
        try:
            blob = upload_services.upload_complete(upload=upload, digest=digest, chunk=body)
        except RegistryError:
            upload_services.upload_cancel(upload=upload)
            raise
        return _created_response(ctx.client_name, blob.digest)
    upload = upload_services.upload_start(
        repository=ctx.repository_for_push(), user=ctx.user_or_none
    )
    response = _progress_response(ctx.client_name, upload, 202)
    minimum = getattr(settings, "REGISTRY_CHUNK_MIN_LENGTH", 0)
    if minimum:
        response["OCI-Chunk-Min-Length"] = str(minimum)
    return response


def _content_range(request) -> tuple[int | None, int | None]:
    header = request.META.get("HTTP_CONTENT_RANGE", "")
    if not header:
        return None, None
    match = _CONTENT_RANGE.match(header.strip())
    if not match or int(match.group(2)) < int(match.group(1)):
        raise RangeInvalid({"Content-Range": header[:100]})
    return int(match.group(1)), int(match.group(2))


# Reading a session's progress needs only `pull`, as in CNCF Distribution.
@registry_endpoint(
    action_by_method={"GET": "pull", "PATCH": "push", "PUT": "push", "DELETE": "push"}
)
def upload(request, ctx, upload_id):
    session = upload_get(repository=ctx.repository, upload_id=upload_id)
    if session is None:
        raise BlobUploadUnknown({"uuid": upload_id[:100]})
    name = ctx.client_name
    if request.method == "GET":
        return _progress_response(name, session, 204)
    if request.method == "DELETE":
        upload_services.upload_cancel(upload=session)
        return HttpResponse(status=204)
    if request.method == "PATCH":
        try:
            start, end = _content_range(request)
            body = _body(request) or Chunk(chunks=(), length=0)
            body.start, body.end = start, end
            session = upload_services.upload_append(upload=session, chunk=body)
        except _RESUMABLE as error:
            raise _with_progress(error, name, session) from None
        return _progress_response(name, session, 202)
    # PUT: finish, with or without a last chunk.
    digest = request.GET.get("digest")
    if not digest:
        raise DigestInvalid(message="digest parameter required")
    digest_parse(digest)
    body = _body(request)
    if body is not None:
        try:
            body.start, body.end = _content_range(request)
        except RangeInvalid as error:
            raise _with_progress(error, name, session) from None
        if body.length == 0:
            body = None
    try:
        blob = upload_services.upload_complete(upload=session, digest=digest, chunk=body)
    except _RESUMABLE as error:
        raise _with_progress(error, name, session) from None
    return _created_response(name, blob.digest)
