"""The pull-time rule of repositories that "require a verified signature to pull".

Signature artifacts, attestations and other referrers stay pullable (cosign and notation must
read them to verify), and so do the children of a verified index (docker pulls an index by tag,
then its platform's manifest by digest).
"""

from __future__ import annotations

from registry_api.errors import Denied
from registry_api.models import Manifest
from registry_api.selectors.manifests import manifest_parsed
from registry_api.selectors.referrers import media_type_kind
from registry_api.selectors.signatures import signature_status

_VERIFIER_KINDS = ("signature", "sbom", "attestation")
_IMAGE_LAYER_PREFIXES = ("application/vnd.oci.image.layer.", "application/vnd.docker.image.rootfs.")


def _is_verifier_artifact(manifest: Manifest) -> bool:
    """A signature, SBOM or attestation: what verifiers read, never a runnable image.

    Decided by content, not by a `subject` or a tag name (a pusher could give those to any
    image): every layer must be of a signature/SBOM/attestation type, none a filesystem layer.
    """
    if manifest.is_index:
        return False
    parsed = manifest_parsed(manifest)
    if parsed is None or not parsed.layers:
        return False
    return all(
        media_type_kind(layer.media_type) in _VERIFIER_KINDS
        and not layer.media_type.startswith(_IMAGE_LAYER_PREFIXES)
        for layer in parsed.layers
    )


def signature_required_check(*, repository, manifest: Manifest) -> None:
    """Raise DENIED when the repository requires a verified signature `manifest` lacks."""
    if repository is None or not repository.require_signature or _is_verifier_artifact(manifest):
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
