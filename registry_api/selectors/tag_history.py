"""Reads of tag history: a tag's movements, which earlier digests can still be restored, and the
tags that have a history but no longer exist (deleted tags)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from hub.names import TAG_RE
from registry_api.models import Manifest, ManifestTombstone, Tag, TagEvent


def tag_history(*, repository, tag: str) -> QuerySet[TagEvent]:
    """The tag's movements, newest first (also for a tag that no longer exists)."""
    if not TAG_RE.fullmatch(tag):
        return TagEvent.objects.none()  # never a query with what no tag can be (NUL bytes)
    return TagEvent.objects.filter(repository=repository, tag=tag).order_by("-created_at", "-pk")


def tag_history_has(*, repository, tag: str, digest: str) -> bool:
    """True if the tag ever pointed at `digest` (only those may be restored)."""
    events = tag_history(repository=repository, tag=tag)
    return events.filter(Q(from_digest=digest) | Q(to_digest=digest)).exists()


def event_digest(event: TagEvent) -> str:
    """The digest a movement is about: where it left the tag, or what a delete removed."""
    return event.to_digest or event.from_digest


def tombstones_live(*, repository) -> QuerySet[ManifestTombstone]:
    """Deleted manifests still restorable (deleted less than TAG_RESTORE_SECONDS ago)."""
    cutoff = timezone.now() - timedelta(seconds=settings.TAG_RESTORE_SECONDS)
    return ManifestTombstone.objects.filter(repository=repository, deleted_at__gte=cutoff)


def digests_restorable(*, repository, digests: Iterable[str]) -> set[str]:
    """Those of `digests` whose manifest is in the repository or in a live tombstone."""
    wanted = {digest for digest in digests if digest}
    if not wanted:
        return set()
    live = Manifest.objects.filter(repository=repository, digest__in=wanted)
    kept = tombstones_live(repository=repository).filter(digest__in=wanted)
    return set(live.values_list("digest", flat=True)) | set(kept.values_list("digest", flat=True))


def tag_current_digest(*, repository, tag: str) -> str:
    """The digest the tag points at now, "" if it does not exist."""
    if not TAG_RE.fullmatch(tag):
        return ""
    current = Tag.objects.filter(repository=repository, name=tag)
    return current.values_list("manifest__digest", flat=True).first() or ""


def history_rows(*, repository, tag: str, events: Iterable[TagEvent]) -> list[dict]:
    """Events with the digest a restore would go back to and whether it can, for one page."""
    events = list(events)
    current = tag_current_digest(repository=repository, tag=tag)
    restorable = digests_restorable(
        repository=repository, digests=(event_digest(event) for event in events)
    )
    return [
        {
            "event": event,
            "digest": event_digest(event),
            "restorable": event_digest(event) in restorable and event_digest(event) != current,
        }
        for event in events
    ]


def tags_deleted(*, repository) -> QuerySet[TagEvent]:
    """The last movement of each tag that has a history but no longer exists, newest first."""
    existing = Tag.objects.filter(repository=repository).values("name")
    last = (
        TagEvent.objects.filter(repository=repository)
        .exclude(tag__in=existing)
        .values("tag")
        .annotate(last=Max("pk"))
        .values("last")
    )
    return TagEvent.objects.filter(pk__in=last).order_by("-created_at", "-pk")


def deleted_rows(*, repository, events: Iterable[TagEvent]) -> list[dict]:
    """Deleted tags (their last movement) with their last digest and whether it is restorable."""
    events = list(events)
    restorable = digests_restorable(
        repository=repository, digests=(event_digest(event) for event in events)
    )
    return [
        {
            "event": event,
            "digest": event_digest(event),
            "restorable": event_digest(event) in restorable,
        }
        for event in events
    ]
