"""Restore a tag to an earlier digest of its history (Quay's "time machine").

Only a digest the tag once pointed at may be restored. A manifest still in the repository is
simply pointed at again; a deleted one is re-created from its tombstone through the push path
(validated again, its blobs linked again, an index's deleted children revived first) while the
tombstone lives (TAG_RESTORE_SECONDS) and garbage collection has taken none of its blobs.
The tag moves through tag_point, so the restore is in the tag's history, publishes the usual
push event and meets the same rules as a push (an immutable tag stays where it is).
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from hub.audit import audit_record
from hub.names import TAG_RE
from registry_api.digests import digest_is_valid
from registry_api.models import Manifest, ManifestTombstone, RepositoryBlob, Tag, TagEvent
from registry_api.selectors.tag_history import tag_current_digest, tag_history_has, tombstones_live
from registry_api.service_errors import DigestMalformed, ServiceError, TagNameInvalid
from registry_api.services.manifests import ValidManifest, manifest_push, manifest_validate
from registry_api.services.tags import tag_point

# An index of indexes is legal; a chain this deep is not a real image.
MAX_DEPTH = 8


class RestoreRefused(ServiceError):
    message = _("The tag cannot be restored to this digest.")


class DigestNotInHistory(RestoreRefused):
    message = _(
        "This tag never pointed at this digest: only digests from its history can be restored."
    )


class RestoreExpired(RestoreRefused):
    message = _("The manifest was deleted too long ago and can no longer be restored.")


class RestoreBlobGone(RestoreRefused):
    message = _("A blob of the manifest was garbage-collected: it can no longer be restored.")


@transaction.atomic
def tag_restore(*, repository, tag: str, digest: str, actor, request=None) -> Tag:
    """Point `tag` back at `digest`, one of its earlier digests; re-create the manifest from its
    tombstone if it was deleted. A tag already at `digest` is left as it is."""
    if not TAG_RE.fullmatch(tag):
        raise TagNameInvalid({"tag": tag[:200]})
    if not digest_is_valid(digest):
        raise DigestMalformed({"digest": digest[:200]})
    if not tag_history_has(repository=repository, tag=tag, digest=digest):
        raise DigestNotInHistory({"tag": tag, "digest": digest})
    previous = tag_current_digest(repository=repository, tag=tag)
    if previous == digest:
        return Tag.objects.get(repository=repository, name=tag)
    manifest = Manifest.objects.filter(repository=repository, digest=digest).first()
    if manifest is None:
        manifest = _manifest_revive(repository=repository, digest=digest, actor=actor)
    restored = tag_point(
        repository=repository, name=tag, manifest=manifest, actor=actor,
        action=TagEvent.Action.RESTORE,
    )  # fmt: skip
    audit_record(
        action="tag.restore",
        actor=actor,
        target=f"{repository.full_name}:{tag}",
        data={"from_digest": previous, "to_digest": digest},
        request=request,
    )
    return restored


def _manifest_revive(*, repository, digest: str, actor, depth: int = 0) -> Manifest:
    """Push a deleted manifest again from its live tombstone (children first), then drop it."""
    tombstone = (
        tombstones_live(repository=repository).select_for_update().filter(digest=digest).first()
    )
    if tombstone is None:
        deleted = ManifestTombstone.objects.filter(repository=repository, digest=digest).exists()
        raise RestoreExpired(
            {"digest": digest},
            message=None if deleted else _("The manifest is no longer in the repository."),
        )
    valid = manifest_validate(
        reference=digest, body=bytes(tombstone.payload), content_type=tombstone.media_type
    )
    for child in valid.parsed.child_digests:
        if not Manifest.objects.filter(repository=repository, digest=child).exists():
            if depth >= MAX_DEPTH:
                raise RestoreRefused({"digest": child}, message=_("The index nests too deep."))
            _manifest_revive(repository=repository, digest=child, actor=actor, depth=depth + 1)
    _blobs_relink(repository=repository, tombstone=tombstone, valid=valid)
    manifest = manifest_push(repository=repository, valid=valid, actor=actor)
    tombstone.delete()
    return manifest


def _blobs_relink(*, repository, tombstone: ManifestTombstone, valid: ValidManifest) -> None:
    """Link the manifest's blobs to the repository again, from those its tombstone kept.

    The Blob rows are locked so a sweep running now either took them before (refused here) or
    finds them referenced by the restored manifest.
    """
    parsed = valid.parsed
    wanted = parsed.required_blob_digests + parsed.optional_blob_digests
    kept = {
        blob.digest: blob
        for blob in tombstone.blobs.filter(digest__in=wanted).select_for_update(of=("self",))
    }
    linked = set(
        RepositoryBlob.objects.filter(repository=repository, blob__digest__in=wanted).values_list(
            "blob__digest", flat=True
        )
    )
    missing = [
        digest for digest in parsed.required_blob_digests if digest not in kept.keys() | linked
    ]
    if missing:
        raise RestoreBlobGone(
            {"digest": valid.digest, "missing": missing[:10], "missing_count": len(missing)}
        )
    for digest, blob in kept.items():
        if digest not in linked:
            RepositoryBlob.objects.get_or_create(repository=repository, blob=blob)
