"""What refers to a tag's manifest, for the tag page and the REST API: OCI 1.1 referrers (a
`subject`), cosign's tag scheme (`sha256-<hex>.sig|.att|.sbom`) and the attestation manifests
BuildKit puts inside an index, each sorted into signatures, SBOMs, attestations and others."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q
from django.utils.dateparse import parse_datetime

from registry_api.models import Manifest
from registry_api.selectors.manifests import manifest_parsed

COSIGN_SIGNATURE = "application/vnd.dev.cosign.artifact.sig.v1+json"
COSIGN_SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
SIGSTORE_BUNDLE = "application/vnd.dev.sigstore.bundle.v0.3+json"
NOTATION_SIGNATURE = "application/vnd.cncf.notary.signature"
SIGNATURE_TYPES = (COSIGN_SIGNATURE, SIGSTORE_BUNDLE, NOTATION_SIGNATURE)

_KINDS = {
    "signature": (
        COSIGN_SIGNATURE,
        COSIGN_SIMPLE_SIGNING,
        NOTATION_SIGNATURE,
        "application/jose+json",  # Notation envelopes
        "application/cose",
    ),
    "sbom": ("application/spdx+json", "application/vnd.cyclonedx+json", "text/spdx"),
    "attestation": ("application/vnd.in-toto+json", "application/vnd.dsse.envelope.v1+json"),
}
# Families matched by prefix: text/spdx+json, cyclonedx+xml, every sigstore bundle version.
_PREFIXES = {
    "signature": ("application/vnd.dev.sigstore.bundle",),
    "sbom": ("text/spdx", "application/vnd.cyclonedx"),
    "attestation": ("application/vnd.in-toto", "application/vnd.dsse"),
}
KIND_ORDER = ("signature", "sbom", "attestation", "other")
_TAG_SUFFIX_KINDS = {".sig": "signature", ".att": "attestation", ".sbom": "sbom"}
_GENERIC_CONFIG_TYPES = (
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
    "application/vnd.oci.empty.v1+json",
)
CREATED_ANNOTATION = "org.opencontainers.image.created"
REFERENCE_TYPE = "vnd.docker.reference.type"
REFERENCE_DIGEST = "vnd.docker.reference.digest"


def media_type_kind(media_type: str) -> str:
    media_type = (media_type or "").lower()
    for kind, exact in _KINDS.items():
        if media_type in exact or media_type.startswith(_PREFIXES[kind]):
            return kind
    return ""


@dataclass
class Referrer:
    kind: str  # one of KIND_ORDER
    artifact_type: str
    digest: str
    media_type: str
    size: int
    created: datetime | None
    annotations: dict[str, str] = field(default_factory=dict)
    blob_digest: str = ""  # the first layer: what "download" gives
    source: str = "subject"  # "subject", "tag" (cosign's tag scheme) or "index" (BuildKit)
    refers_to: str = ""  # the digest it is about (an index's attestation: its image's)


def _created(annotations: dict, fallback: datetime) -> datetime:
    parsed = parse_datetime(str(annotations.get(CREATED_ANNOTATION) or ""))
    return parsed or fallback


def _referrer(manifest: Manifest, *, source: str, kind_hint: str = "", refers_to: str = ""):
    parsed = manifest_parsed(manifest)
    artifact_type = manifest.artifact_type or (parsed.referrer_artifact_type if parsed else "")
    layers = parsed.layers if parsed else ()
    if artifact_type in _GENERIC_CONFIG_TYPES and layers:
        # An image config says nothing of the artifact (BuildKit's attestations, cosign's tag
        # scheme): its first layer's type does.
        artifact_type = layers[0].media_type
    kind = media_type_kind(artifact_type)
    if not kind and layers:
        kind = media_type_kind(layers[0].media_type)
    annotations = dict(manifest.annotations or {})
    return Referrer(
        kind=kind or kind_hint or "other",
        artifact_type=artifact_type or (layers[0].media_type if layers else ""),
        digest=manifest.digest,
        media_type=manifest.media_type,
        size=manifest.size,
        created=_created(annotations, manifest.created_at),
        annotations=annotations,
        blob_digest=layers[0].digest if layers else "",
        source=source,
        refers_to=refers_to or manifest.subject_digest,
    )


def cosign_tag_names(digest: str) -> list[str]:
    """The tags cosign's tag scheme gives the signature, attestation and SBOM of `digest`."""
    algorithm, _, hex_digest = digest.partition(":")
    return [f"{algorithm}-{hex_digest}{suffix}" for suffix in _TAG_SUFFIX_KINDS]


def referrer_manifests(*, repository, digest: str):
    """Manifests referring to `digest`: by `subject` or by a cosign-scheme tag."""
    return (
        Manifest.objects.filter(repository=repository)
        .filter(Q(subject_digest=digest) | Q(tags__name__in=cosign_tag_names(digest)))
        .distinct()
        .prefetch_related("tags")
        .order_by("created_at", "pk")
    )


def _index_attestations(manifest: Manifest) -> list[Referrer]:
    parsed = manifest_parsed(manifest) if manifest.is_index else None
    if parsed is None:
        return []
    wanted = {
        child.digest: child
        for child in parsed.manifests
        if child.annotations.get(REFERENCE_TYPE) == "attestation-manifest"
    }
    found = Manifest.objects.filter(repository=manifest.repository, digest__in=list(wanted))
    referrers = []
    for child in found.order_by("created_at", "pk"):
        referrer = _referrer(
            child,
            source="index",
            kind_hint="attestation",
            refers_to=wanted[child.digest].annotations.get(REFERENCE_DIGEST, ""),
        )
        referrer.annotations = {**wanted[child.digest].annotations, **referrer.annotations}
        referrers.append(referrer)
    return referrers


def tag_referrers(*, manifest: Manifest) -> list[Referrer]:
    """Everything referring to the manifest, in KIND_ORDER, oldest first within a kind."""
    referrers = []
    for found in referrer_manifests(repository=manifest.repository, digest=manifest.digest):
        tag_kinds = [
            kind
            for tag in found.tags.all()
            for suffix, kind in _TAG_SUFFIX_KINDS.items()
            if tag.name.endswith(suffix)
        ]
        source = "subject" if found.subject_digest == manifest.digest else "tag"
        hint = tag_kinds[0] if tag_kinds else ""
        referrers.append(_referrer(found, source=source, kind_hint=hint, refers_to=manifest.digest))
    referrers.extend(_index_attestations(manifest))
    return sorted(referrers, key=lambda referrer: KIND_ORDER.index(referrer.kind))


def referrers_grouped(referrers: list[Referrer]) -> list[tuple[str, list[Referrer]]]:
    """[(kind, referrers)] for the kinds present, in KIND_ORDER."""
    return [
        (kind, [referrer for referrer in referrers if referrer.kind == kind])
        for kind in KIND_ORDER
        if any(referrer.kind == kind for referrer in referrers)
    ]
