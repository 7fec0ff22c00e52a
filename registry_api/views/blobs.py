"""`GET`/`HEAD`/`DELETE /v2/<name>/blobs/<digest>`: a repository serves only the blobs it links."""

from __future__ import annotations

from django.http import HttpResponse

from registry_api import proxy
from registry_api.blob_responses import stored_blob_response
from registry_api.digests import digest_parse
from registry_api.endpoint import registry_endpoint
from registry_api.errors import BlobUnknown
from registry_api.selectors.blobs import blob_linked
from registry_api.services.blobs import blob_unlink


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
    found = blob_linked(repository=ctx.repository, digest=digest)
    if found is None:
        response = proxy.blob_response(ctx, digest, request)
        if response is not None:
            return response
        raise BlobUnknown({"digest": digest})
    return stored_blob_response(request, found)
