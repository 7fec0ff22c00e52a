"""Tag writes: point a tag at a manifest (a push) and delete a tag. Each publishes its event.

Every caller (the /v2/ protocol, the web UI, the REST API) goes through these, so a tag change
and its webhook event are written in one transaction, whoever made the change.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from hub.models import Repository
from registry_api.models import Manifest, Tag
from webhooks.services.events import event_publish


def _actor_or_none(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def repository_touch(*, repository) -> None:
    """Mark the repository as changed now (lists sort on updated_at)."""
    Repository.objects.filter(pk=repository.pk).update(updated_at=timezone.now())


@transaction.atomic
def tag_point(*, repository, name: str, manifest: Manifest, actor) -> Tag:
    """Point tag `name` at `manifest` (creating or moving it) and publish one push event.

    A re-push of the same digest is still a push: it records who pushed it when.
    """
    tag, _ = Tag.objects.update_or_create(
        repository=repository,
        name=name,
        defaults={
            "manifest": manifest,
            "pushed_at": timezone.now(),
            "pushed_by": _actor_or_none(actor),
        },
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
    return tag


@transaction.atomic
def tag_delete(*, tag: Tag, actor) -> None:
    """Remove a tag only; its manifest stays reachable by digest. Publishes a delete event."""
    repository = tag.repository
    manifest = tag.manifest
    name = tag.name
    tag.delete()
    event_publish(
        action="delete",
        repository=repository,
        actor=actor,
        data={"tag": name, "digest": manifest.digest, "media_type": manifest.media_type},
    )
    repository_touch(repository=repository)
