"""Tag writes: the one place a tag is created, moved, confirmed or deleted.

Pushes and deletes (the /v2/ protocol, the web UI, the REST API) and the pull-through cache all
call these; a manifest delete removes its tags by cascade (services.manifests). A pushed or
deleted tag and its webhook event are written in one transaction.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from hub.audit import audit_record
from hub.services.repositories import repository_touch
from registry_api.lookups import repository_changed
from registry_api.models import Manifest, Tag, TagEvent
from registry_api.services.immutability import tag_change_check
from webhooks.services.events import event_publish


def _actor_or_none(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def tag_event_record(
    *, repository, tag: str, action: str, from_digest: str, to_digest: str, actor=None
) -> None:
    """Add one line to the tag's history (who moved it when, from which digest to which)."""
    user = _actor_or_none(actor)
    TagEvent.objects.create(
        repository=repository,
        tag=tag,
        action=action,
        from_digest=from_digest,
        to_digest=to_digest,
        actor=user,
        actor_name=getattr(user, "username", ""),
    )


@transaction.atomic
def tag_point(
    *, repository, name: str, manifest: Manifest, actor, action: str = TagEvent.Action.PUSH
) -> Tag:
    """Point tag `name` at `manifest` (creating or moving it), record it in the tag's history as
    `action` (a push, or a restore) and publish one push event.

    A re-push of the same digest is still a push: it records who pushed it when. Moving a tag
    an immutability rule protects is refused (TagImmutable).
    """
    previous = (
        Tag.objects.select_for_update()
        .filter(repository=repository, name=name)
        .values_list("manifest__digest", flat=True)
        .first()
    )
    if previous and previous != manifest.digest:
        tag_change_check(repository, name)
    tag, _ = Tag.objects.update_or_create(
        repository=repository,
        name=name,
        defaults={
            "manifest": manifest,
            "pushed_at": timezone.now(),
            "pushed_by": _actor_or_none(actor),
        },
    )
    tag_event_record(
        repository=repository,
        tag=name,
        action=action,
        from_digest=previous or "",
        to_digest=manifest.digest,
        actor=actor,
    )
    event_publish(
        action="push",
        repository=repository,
        actor=actor,
        data={
            "tag": name,
            "digest": manifest.digest,
            "media_type": manifest.media_type,
            "pusher": getattr(actor, "username", "") or "",
        },
    )
    repository_touch(repository=repository)
    repository_changed(repository_id=repository.pk)
    return tag


def _tag_locked(*, repository, name: str) -> Tag | None:
    return (
        Tag.objects.select_for_update()
        .filter(repository=repository, name=name)
        .select_related("manifest")
        .first()
    )


@transaction.atomic
def tag_cache(*, repository, name: str, manifest: Manifest) -> Tag:
    """Record what the upstream of a mirrored repository says tag `name` is, verified now.

    No event: nobody pushed. A tag created or moved is recorded in the tag's history as a
    "cache" movement without actor. Two processes caching the same tag at once both end at
    `manifest`, and the movement is recorded once (the second finds it done under the lock).
    """
    tag = Tag.objects.filter(repository=repository, name=name).first()
    if tag is not None and tag.manifest_id == manifest.pk:
        tag_verified(tag=tag)
        return tag
    now = timezone.now()
    tag = _tag_locked(repository=repository, name=name)
    previous, created = "", False
    if tag is None:
        try:
            with transaction.atomic():
                tag = Tag.objects.create(
                    repository=repository, name=name, manifest=manifest, pushed_at=now,
                    verified_at=now,
                )  # fmt: skip
        except IntegrityError:
            # Another process created the tag between our read and our insert.
            tag = _tag_locked(repository=repository, name=name)
        else:
            created = True
    if tag.manifest_id != manifest.pk:
        previous = tag.manifest.digest
        tag.manifest, tag.pushed_at, tag.verified_at = manifest, now, now
        tag.save(update_fields=["manifest", "pushed_at", "verified_at"])
    elif not created:
        tag_verified(tag=tag)  # another process cached this digest first, and recorded it
        return tag
    tag_event_record(
        repository=repository,
        tag=name,
        action=TagEvent.Action.CACHE,
        from_digest=previous,
        to_digest=manifest.digest,
    )
    repository_touch(repository=repository)
    repository_changed(repository_id=repository.pk)
    return tag


@transaction.atomic
def tag_import(*, repository, name: str, manifest: Manifest, pushed_at) -> str:
    """Point tag `name` at `manifest` as another registry had it; "created", "moved" or "same".

    No event: an import replays history, and one push event per imported tag would be a storm
    of webhooks. A tag already at `manifest` is left as it is (a re-run changes nothing).
    """
    tag = Tag.objects.select_for_update().filter(repository=repository, name=name).first()
    if tag is not None and tag.manifest_id == manifest.pk:
        return "same"
    previous = ""
    if tag is None:
        Tag.objects.create(repository=repository, name=name, manifest=manifest, pushed_at=pushed_at)
        outcome = "created"
    else:
        previous = tag.manifest.digest
        tag.manifest, tag.pushed_at, tag.pushed_by = manifest, pushed_at, None
        tag.save(update_fields=["manifest", "pushed_at", "pushed_by"])
        outcome = "moved"
    tag_event_record(
        repository=repository,
        tag=name,
        action=TagEvent.Action.IMPORT,
        from_digest=previous,
        to_digest=manifest.digest,
    )
    repository_touch(repository=repository)
    repository_changed(repository_id=repository.pk)
    return outcome


def tag_verified(*, tag: Tag) -> None:
    """The upstream confirmed the cached tag's digest just now."""
    Tag.objects.filter(pk=tag.pk).update(verified_at=timezone.now())


def tags_expire(*, namespace: str) -> int:
    """Make every cached tag of a mirror namespace revalidate on its next pull; return how many."""
    return Tag.objects.filter(repository__namespace__name=namespace).update(verified_at=None)


@transaction.atomic
def tag_delete(*, tag: Tag, actor, action: str = TagEvent.Action.DELETE) -> None:
    """Remove a tag only; its manifest stays reachable by digest. Records it in the tag's history
    as `action` (a delete, or a retention policy's) and publishes a delete event. A tag an
    immutability rule protects is refused (TagImmutable)."""
    repository = tag.repository
    tag_change_check(repository, tag.name, action="delete")
    manifest = tag.manifest
    name = tag.name
    tag.delete()
    tag_event_record(
        repository=repository,
        tag=name,
        action=action,
        from_digest=manifest.digest,
        to_digest="",
        actor=actor,
    )
    event_publish(
        action="delete",
        repository=repository,
        actor=actor,
        data={"tag": name, "digest": manifest.digest, "media_type": manifest.media_type},
    )
    audit_record(
        action="tag.delete",
        actor=_actor_or_none(actor),
        target=f"{repository.full_name}:{name}",
        data={"digest": manifest.digest, "reason": str(action)},
        system=actor is None,
    )
    repository_touch(repository=repository)
    repository_changed(repository_id=repository.pk)
