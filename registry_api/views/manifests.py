"""`/v2/<name>/manifests/<reference>`: GET/HEAD (content negotiation), PUT, DELETE.

Manifests are served as the exact bytes pushed (so the digest is stable), never converted: a
client whose Accept list leaves out the stored media type gets MANIFEST_UNKNOWN, as distribution
answers for an OCI manifest requested with Docker-only types.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse

from registry_api import proxy
from registry_api.endpoint import registry_endpoint
from registry_api.errors import ManifestUnknown, NameUnknown
from registry_api.manifests import is_digest
from registry_api.rate_limits import pull_quota
from registry_api.redirects import moved_pull_audit
from registry_api.selectors.manifests import manifest_get
from registry_api.selectors.tags import tag_get
from registry_api.service_errors import ManifestTooLarge
from registry_api.services.manifests import (
    manifest_delete,
    manifest_pull_record,
    manifest_push,
    manifest_validate,
)
from registry_api.services.tags import tag_delete
from registry_api.signature_policy import signature_required_check
from registry_api.streams import request_chunks
from scanning.policy import vulnerability_pull_check

_WILDCARDS = ("*/*", "application/*")


def _is_q_zero(param: str) -> bool:
    name, _, value = param.partition("=")
    if name.strip().lower() != "q":
        return False
    try:
        return float(value.strip()) == 0
    except ValueError:
        return False


def accepted_types(header: str) -> set[str] | None:
    """Media types an Accept header asks for (q=0 excluded); None means anything goes."""
    if not header.strip():
        return None
    accepted = set()
    for item in header.split(","):
        media_type, *params = (part.strip() for part in item.split(";"))
        if media_type and not any(_is_q_zero(param) for param in params):
            accepted.add(media_type.lower())
    if accepted & set(_WILDCARDS):
        return None
    return accepted


def _not_found(ctx, reference: str):
    if ctx.repository is None:
        return NameUnknown({"name": ctx.client_name})
    return ManifestUnknown({"reference": reference[:200]})


def _manifest_for_read(ctx, reference: str):
    mirrored = bool(ctx.repository is not None and ctx.repository.mirror_of)
    revalidate = mirrored and not is_digest(reference)
    if revalidate:
        # A mirrored tag may have moved upstream: let the cache revalidate it first.
        fetched = proxy.manifest_fetch(ctx, reference)
        if fetched is not None:
            return fetched
    manifest = manifest_get(repository=ctx.repository, reference=reference)
    if manifest is None and not revalidate:
        manifest = proxy.manifest_fetch(ctx, reference)
    if manifest is None:
        raise _not_found(ctx, reference)
    return manifest


def _get(request, ctx, reference: str) -> HttpResponse:
    manifest = _manifest_for_read(ctx, reference)
    # Pull rules of the repository, on the manifest about to be served (tag or digest).
    signature_required_check(repository=ctx.repository, manifest=manifest)
    vulnerability_pull_check(repository=ctx.repository, manifest=manifest)
    accepted = accepted_types(request.META.get("HTTP_ACCEPT", ""))
    if accepted is not None and manifest.media_type not in accepted:
        raise ManifestUnknown(
            {"reference": reference[:200], "mediaType": manifest.media_type},
            message=f"manifest is {manifest.media_type}, which the Accept header does not include",
        )
    payload = bytes(manifest.payload)
    etag = f'"{manifest.digest}"'
    headers = {
        "Vary": "Accept",
        "Docker-Content-Digest": manifest.digest,
        "ETag": etag,
        "Content-Length": str(len(payload)),
    }
    if request.method == "HEAD":
        response = HttpResponse(content_type=manifest.media_type, headers=headers)
    elif etag in request.META.get("HTTP_IF_NONE_MATCH", ""):
        response = HttpResponse(status=304, headers={"Docker-Content-Digest": manifest.digest})
        response["ETag"] = etag
    else:
        manifest_pull_record(manifest=manifest, tag_name="" if is_digest(reference) else reference)
        if ctx.moved:
            moved_pull_audit(ctx, reference)
        response = HttpResponse(payload, content_type=manifest.media_type, headers=headers)
    return response


# A body past the limit is still read, up to this much more, and dropped: a client still sending
# (e.g. with `Connection: close`) then reads the 413 instead of a connection reset, which is what
# closing a socket with unread data gives. Bodies declared larger are refused unread.
DRAIN_MAX_BYTES = 16 * 1024 * 1024


def _body_read(request) -> bytes:
    """Read at most the size limit (never a huge body in memory); refuse a larger one with 413."""
    limit = settings.REGISTRY_MAX_MANIFEST_BYTES
    declared = request.META.get("CONTENT_LENGTH") or ""
    if declared.isdigit() and int(declared) > limit + DRAIN_MAX_BYTES:
        raise ManifestTooLarge({"size": int(declared), "limit": limit})
    chunks, size = [], 0
    for chunk in request_chunks(request):
        if size <= limit:
            chunks.append(chunk)
        size += len(chunk)
        if size > limit + DRAIN_MAX_BYTES:
            break
    if size > limit:
        raise ManifestTooLarge(
            {"size": int(declared) if declared.isdigit() else size, "limit": limit}
        )
    return b"".join(chunks)


def _put(request, ctx, reference: str) -> HttpResponse:
    valid = manifest_validate(
        reference=reference,
        body=_body_read(request),
        content_type=request.META.get("CONTENT_TYPE"),
    )
    with transaction.atomic():
        repository = ctx.repository_for_push()
        manifest = manifest_push(repository=repository, valid=valid, actor=ctx.user)
    response = HttpResponse(status=201)
    response["Location"] = f"/v2/{ctx.client_name}/manifests/{manifest.digest}"
    response["Docker-Content-Digest"] = manifest.digest
    response["Content-Length"] = "0"
    if valid.parsed.subject is not None:
        response["OCI-Subject"] = valid.parsed.subject.digest
    return response


def _delete(request, ctx, reference: str) -> HttpResponse:
    if is_digest(reference):
        manifest = manifest_get(repository=ctx.repository, reference=reference)
        if manifest is None:
            raise _not_found(ctx, reference)
        manifest_delete(manifest=manifest, actor=ctx.user)
    else:
        tag = tag_get(repository=ctx.repository, name=reference)
        if tag is None:
            raise _not_found(ctx, reference)
        tag_delete(tag=tag, actor=ctx.user)
    response = HttpResponse(status=202)
    response["Content-Length"] = "0"
    return response


@registry_endpoint(
    action_by_method={"GET": "pull", "HEAD": "pull", "PUT": "push", "DELETE": "delete"}
)
def manifest(request, ctx, reference):
    if request.method == "PUT":
        return _put(request, ctx, reference)
    if request.method == "DELETE":
        return _delete(request, ctx, reference)
    quota = pull_quota(request, ctx)
    response = _get(request, ctx, reference)
    if quota is not None:
        for name, value in quota.headers().items():
            response[name] = value
    return response
