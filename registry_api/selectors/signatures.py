"""A manifest's signature verdict: "verified by key X", "not verified (why)" or "no signature".

Verdicts are kept in SignatureCheck rows, valid while the namespace's signing_keys_version
(bumped by hub.services.signing_keys on every key change) and the set of signature manifests
are what they were made with; anything else is checked again here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from hub.models import Namespace, SigningKey
from registry_api import storage as blob_storage
from registry_api.models import Manifest, SignatureCheck, Tag
from registry_api.selectors.manifests import manifest_parsed
from registry_api.selectors.referrers import referrer_manifests, referrers_grouped, tag_referrers
from registry_api.signatures import MAX_PAYLOAD_BYTES, Key, Layer, Verdict, artifact_verify

State = SignatureCheck.State


@dataclass(frozen=True)
class SignatureStatus:
    state: str  # SignatureCheck.State
    key_name: str = ""
    reason: str = ""

    @property
    def verified(self) -> bool:
        return self.state == State.VERIFIED


def signing_keys_for(repository) -> list[Key]:
    """The keys that may vouch for the repository's images: its namespace's and registry-wide."""
    keys = SigningKey.objects.filter(
        Q(namespace_id=repository.namespace_id) | Q(namespace__isnull=True)
    ).order_by(F("namespace_id").asc(nulls_last=True), "name")
    return [Key(name=key.name, kind=key.kind, pem=key.pem) for key in keys]


def _signature_manifests(manifest: Manifest) -> list[Manifest]:
    signature_digests = {
        referrer.digest
        for referrer in tag_referrers(manifest=manifest)
        if referrer.kind == "signature" and referrer.source != "index"
    }
    found = referrer_manifests(repository=manifest.repository, digest=manifest.digest)
    return [candidate for candidate in found if candidate.digest in signature_digests]


def _blob_read(digest: str) -> bytes | None:
    try:
        with blob_storage.blobs().open(digest) as handle:
            return handle.read(MAX_PAYLOAD_BYTES)
    except Exception:  # noqa: BLE001 - a missing blob is an unverifiable signature, not a 500
        return None


def _verify(manifest: Manifest, signatures: list[Manifest]) -> SignatureStatus:
    if not signatures:
        return SignatureStatus(State.UNSIGNED, reason="no signature")
    keys = signing_keys_for(manifest.repository)
    if not keys:
        return SignatureStatus(State.UNVERIFIED, reason="no signing keys are configured")
    reasons = []
    for signature in signatures:
        parsed = manifest_parsed(signature)
        layers = [
            Layer(layer.media_type, layer.digest, dict(layer.annotations))
            for layer in (parsed.layers if parsed else ())
        ]
        verdict: Verdict = artifact_verify(
            layers, digest=manifest.digest, keys=keys, read=_blob_read
        )
        if verdict.verified:
            return SignatureStatus(State.VERIFIED, key_name=verdict.key_name)
        reasons.append(verdict.reason)
    return SignatureStatus(State.UNVERIFIED, reason=reasons[0])


def _keys_version(repository) -> int:
    return (
        Namespace.objects.filter(pk=repository.namespace_id)
        .values_list("signing_keys_version", flat=True)
        .first()
        or 0
    )


def signature_status(*, manifest: Manifest) -> SignatureStatus:
    """The verdict on `manifest`'s signatures, from the cache row when it is still valid."""
    repository = manifest.repository
    signatures = _signature_manifests(manifest)
    signatures_hash = hashlib.sha256(
        " ".join(sorted(signature.digest for signature in signatures)).encode()
    ).hexdigest()
    version = _keys_version(repository)
    cached = SignatureCheck.objects.filter(repository=repository, digest=manifest.digest).first()
    if cached and (cached.keys_version, cached.signatures_hash) == (version, signatures_hash):
        return SignatureStatus(cached.state, key_name=cached.key_name, reason=cached.reason)
    status = _verify(manifest, signatures)
    fields = {
        "keys_version": version,
        "signatures_hash": signatures_hash,
        "state": status.state,
        "key_name": status.key_name,
        "reason": status.reason[:300],
        "checked_at": timezone.now(),
    }
    try:
        with transaction.atomic():
            SignatureCheck.objects.update_or_create(
                repository=repository, digest=manifest.digest, defaults=fields
            )
    except IntegrityError:  # a concurrent check wrote the same verdict first
        pass
    return status


def tag_referrers_section(*, manifest: Manifest) -> dict:
    """What templates/hub/_tag_referrers.html shows: referrers by kind and the verdict."""
    return {
        "groups": referrers_grouped(tag_referrers(manifest=manifest)),
        "signature": signature_status(manifest=manifest),
    }


def repositories_signed(queryset):
    """Keep the repositories with a tag whose image a signing key verifies (search's "signed").

    Only repositories holding a signature candidate (a referrer of a tagged manifest, or a
    cosign `.sig` tag) are checked, each verdict through the SignatureCheck cache.
    """
    tagged = Manifest.objects.filter(tags__isnull=False, repository__in=queryset.values("pk"))
    referred = Manifest.objects.filter(
        repository=OuterRef("repository"), subject_digest=OuterRef("digest")
    )
    cosign_tagged = Tag.objects.filter(repository=OuterRef("repository"), name__endswith=".sig")
    candidates = (
        tagged.filter(Q(Exists(referred)) | Q(Exists(cosign_tagged)))
        .select_related("repository__namespace")
        .distinct()
    )
    signed = set()
    for manifest in candidates:
        if manifest.repository_id not in signed and signature_status(manifest=manifest).verified:
            signed.add(manifest.repository_id)
    return queryset.filter(pk__in=signed)
