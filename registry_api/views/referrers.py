"""`/v2/<name>/referrers/<digest>[?artifactType=]`: the OCI 1.1 referrers API.

Always an OCI image index, never a 404 for an unknown subject (the spec forbids it, so clients
can tell "no referrers" from "no referrers API").
"""

from __future__ import annotations

from registry_api.digests import digest_parse
from registry_api.endpoint import RegistryJson, registry_endpoint
from registry_api.manifests import OCI_INDEX
from registry_api.selectors.manifests import referrer_descriptors


@registry_endpoint(action_by_method={"GET": "pull"})
def referrers_get(request, ctx, digest):
    subject = str(digest_parse(digest))
    artifact_type = request.GET.get("artifactType", "")
    descriptors = referrer_descriptors(
        repository=ctx.repository, subject=subject, artifact_type=artifact_type
    )
    response = RegistryJson(
        {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors},
        content_type=OCI_INDEX,
    )
    if artifact_type:
        response["OCI-Filters-Applied"] = "artifactType"
    return response
