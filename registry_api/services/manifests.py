"""Manifest writes: push (validate, store, link, tag) and delete by digest.

A push is one transaction: the Manifest row with its exact bytes, its links to the blobs and
child manifests it references, the tag (if pushed by tag) and the push event. References are
checked against *this* repository: a blob another repository holds does not count until it is
mounted here.

Refusals are registry_api.service_errors, mapped to protocol errors by the callers' edges.

Pushes by digest (how clients upload the children of an index, or referrers) publish no event:
no tag changed. The index or image pushed by tag afterwards publishes the one push event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from hub.names import TAG_RE
from hub.services.repositories import repository_touch
from registry_api.digests import digest_bytes, digest_parse
from registry_api.errors import DigestInvalid
from registry_api.lookups import repository_changed
from registry_api.manifests import (
    MAX_SIZE,
    InvalidManifest,
    ParsedManifest,
    is_digest,
    manifest_parse,
)
from registry_api.models import Blob, Manifest, ManifestTombstone, Tag
from registry_api.pulls import pull_record
from registry_api.service_errors import (
    DigestMalformed,
    ManifestDigestMismatch,
    ManifestMalformed,
    ManifestReferenceUnknown,
    ManifestTooLarge,
    TagNameInvalid,
)
from registry_api.services.blobs import blobs_linked_lock
from registry_api.services.tags import tag_event_record, tag_point
from webhooks.services.events import event_publish


@dataclass(frozen=True)
class ValidManifest:
    """A manifest body checked on its own (before any database lookup)."""

    body: bytes
    parsed: ParsedManifest
    digest: str
    tag: str  # "" for a push by digest


def manifest_validate(*, reference: str, body: bytes, content_type: str | None) -> ValidManifest:
    """Check the reference, size, JSON and media type; return the body's digest.

    A digest reference must match the body, hashed with the reference's algorithm; a tag
    reference stores the manifest under its sha256 digest.
    """
    limit = settings.REGISTRY_MAX_MANIFEST_BYTES
    if len(body) > limit:
        raise ManifestTooLarge({"size": len(body), "limit": limit})
    if is_digest(reference):
        try:
            expected = digest_parse(reference)
        except DigestInvalid as exc:
            raise DigestMalformed(exc.detail, message=exc.message) from None
        tag = ""
        digest = digest_bytes(body, expected.algorithm)
        if digest != str(expected):
            raise ManifestDigestMismatch({"digest": str(expected), "computed": digest})
    else:
        if not TAG_RE.fullmatch(reference):
            raise TagNameInvalid({"tag": reference[:200]})
        tag = reference
        digest = digest_bytes(body)
    try:
        parsed = manifest_parse(body, content_type)
    except InvalidManifest as exc:
        raise ManifestMalformed(exc.detail, message=exc.message) from None
    return ValidManifest(body=body, parsed=parsed, digest=digest, tag=tag)


# A 4 MiB manifest can list tens of thousands of descriptors: look them up in batches (SQLite
# limits the number of parameters of one query).
_BATCH = 500


def _batches(digests: list[str]):
    for start in range(0, len(digests), _BATCH):
        yield digests[start : start + _BATCH]


def _blobs_present(*, repository, digests: list[str]) -> dict[str, Blob]:
    present = {}
    for batch in _batches(digests):
        # Locked until the push commits, so a concurrent GC sweep cannot take them (GC lock).
        present.update(blobs_linked_lock(repository=repository, digests=batch))
    return present


def _references_resolve(*, repository, parsed: ParsedManifest) -> tuple[list[Blob], list[Manifest]]:
    """Return the blobs and child manifests the manifest references; raise if one is missing."""
    required = parsed.required_blob_digests
    blobs = _blobs_present(repository=repository, digests=required + parsed.optional_blob_digests)
    missing = [digest for digest in required if digest not in blobs]
    if missing:
        raise ManifestReferenceUnknown(
            {"digest": missing[0], "missing": missing[:10], "missing_count": len(missing)},
            message="manifest references a blob unknown to this repository",
        )
    children = list(Manifest.objects.filter(repository=repository, digest__in=parsed.child_digests))
    found = {child.digest for child in children}
    missing = [digest for digest in parsed.child_digests if digest not in found]
    if missing:
        raise ManifestReferenceUnknown(
            {"digest": missing[0], "missing": missing[:10], "missing_count": len(missing)},
            message="index references a manifest unknown to this repository",
        )
    return list(blobs.values()), children


def _total_size(parsed: ParsedManifest, children: list[Manifest]) -> int:
    children_size = sum(child.total_size for child in children)
    total = children_size if parsed.is_index else parsed.image_size
    return min(total, MAX_SIZE)  # many huge descriptors must not overflow the column


@transaction.atomic
def manifest_store(
    *,
    repository,
    valid: ValidManifest,
    actor,
    blobs: Sequence[Blob] = (),
    children: Sequence[Manifest] = (),
) -> Manifest:
    """Return the repository's Manifest row for this digest, creating it with its links.

    No reference check and no tag: manifest_push does both; the pull-through cache stores
    upstream manifests whose blobs arrive later.
    """
    manifest = Manifest.objects.filter(repository=repository, digest=valid.digest).first()
    if manifest is not None:
        return manifest
    parsed = valid.parsed
    try:
        with transaction.atomic():
            manifest = Manifest.objects.create(
                repository=repository,
                digest=valid.digest,
                media_type=parsed.media_type,
                artifact_type=parsed.artifact_type,
                payload=valid.body,
                size=len(valid.body),
                subject_digest=parsed.subject.digest if parsed.subject else "",
                config_digest=parsed.config.digest if parsed.config else "",
                total_size=_total_size(parsed, list(children)),
                annotations=parsed.annotations,
                pushed_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
    except IntegrityError:
        # The same manifest was pushed concurrently: content is identical by digest.
        return Manifest.objects.get(repository=repository, digest=valid.digest)
    if blobs:
        manifest.blobs.add(*blobs)
    if children:
        manifest.children.add(*children)
    return manifest


@transaction.atomic
def manifest_push(*, repository, valid: ValidManifest, actor) -> Manifest:
    """Store a validated manifest in `repository`, link its references, point its tag."""
    blobs, children = _references_resolve(repository=repository, parsed=valid.parsed)
    manifest = manifest_store(
        repository=repository, valid=valid, actor=actor, blobs=blobs, children=children
    )
    if valid.tag:
        tag_point(repository=repository, name=valid.tag, manifest=manifest, actor=actor)
    else:
        repository_touch(repository=repository)
    return manifest


def manifest_pull_record(*, manifest: Manifest, tag_name: str = "") -> None:
    """Count one pull of the repository (a manifest GET); stamp the tag pulled by name.

    Serving processes buffer pulls and write them about once a second (registry_api.pulls).
    """
    pull_record(repository_id=manifest.repository_id, tag_name=tag_name)


@transaction.atomic
def manifest_delete(*, manifest: Manifest, actor) -> None:
    """Delete a manifest and every tag on it; one delete event per removed tag (or one untagged).

    A tombstone keeps its payload and blobs restorable for TAG_RESTORE_SECONDS (tag history);
    garbage collection decides about the blobs after that. Manifests that refer to it as
    `subject` stay.
    """
    repository = manifest.repository
    tag_names = list(
        Tag.objects.filter(manifest=manifest).order_by("name").values_list("name", flat=True)
    )
    digest, media_type = manifest.digest, manifest.media_type
    tombstone, _ = ManifestTombstone.objects.update_or_create(
        repository=repository,
        digest=digest,
        defaults={
            "media_type": media_type,
            "payload": bytes(manifest.payload),
            "deleted_at": timezone.now(),
            "deleted_by": actor if getattr(actor, "is_authenticated", False) else None,
        },
    )
    tombstone.blobs.set(manifest.blobs.all())
    for name in tag_names:
        tag_event_record(
            repository=repository, tag=name, action="delete", from_digest=digest, to_digest="",
            actor=actor,
        )  # fmt: skip
    manifest.delete()
    for name in tag_names or [""]:
        event_publish(
            action="delete",
            repository=repository,
            actor=actor,
            data={"tag": name, "digest": digest, "media_type": media_type},
        )
    repository_touch(repository=repository)
    repository_changed(repository_id=repository.pk)
