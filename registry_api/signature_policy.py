"""The pull-time rule of repositories that "require a verified signature to pull".

Signature artifacts, attestations and other referrers stay pullable (cosign and notation must
read them to verify), and so do the children of a verified index (docker pulls an index by tag,
then its platform's manifest by digest).
"""

from __future__ import annotations

from registry_api.errors import Denied
from registry_api.models import Manifest
from registry_api.selectors.referrers import KIND_ORDER, media_type_kind
from registry_api.selectors.signatures import signature_status

_ARTIFACT_TAG_SUFFIXES = (".sig", ".att", ".sbom")


def _is_artifact(manifest: Manifest) -> bool:
    """A referrer or a cosign-scheme artifact: pulled by verifiers, not run."""
    if manifest.subject_digest:
        return True
    if media_type_kind(manifest.artifact_type) in KIND_ORDER[:3]:
        return True
    return any(tag.name.endswith(_ARTIFACT_TAG_SUFFIXES) for tag in manifest.tags.all())


def signature_required_check(*, repository, manifest: Manifest) -> None:
    """Raise DENIED when the repository requires a verified signature `manifest` lacks."""
    if repository is None or not repository.require_signature or _is_artifact(manifest):
        return
    status = signature_status(manifest=manifest)
    if status.verified:
        return
    for parent in manifest.parents.filter(repository=repository):
        if signature_status(manifest=parent).verified:
            return
    why = "has none" if status.state == "unsigned" else f"is not verified: {status.reason}"
    raise Denied(
        {"digest": manifest.digest, "reason": status.reason},
        message=f"{repository.full_name} requires a verified signature; {manifest.digest} {why}",
    )
