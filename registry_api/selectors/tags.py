"""Reads of tags: one, a page of them (for the UI and the REST API), and their names (/v2/)."""

from __future__ import annotations

from django.db.models import F, QuerySet

from hub.names import TAG_RE
from registry_api.models import Tag
from registry_api.selectors.ordering import bytewise, no_nul


def tag_list(*, repository) -> QuerySet[Tag]:
    """Tags of a repository, most recently pushed first, with what their rows show."""
    return (
        Tag.objects.filter(repository=repository)
        .select_related("manifest", "pushed_by")
        .prefetch_related("manifest__children")
        .order_by("-pushed_at", "name")
    )


def tag_get(*, repository, name: str) -> Tag | None:
    if repository is None or not TAG_RE.match(name):
        return None
    return tag_list(repository=repository).filter(name=name).first()


def tag_names(*, repository, limit: int | None = None, last: str = "") -> list[str]:
    """Tag names in byte order, after `last`, at most `limit` of them (None: all)."""
    if repository is None:
        return []
    tags = Tag.objects.filter(repository=repository).alias(sort_name=bytewise(F("name")))
    last = no_nul(last)
    if last:
        tags = tags.filter(sort_name__gt=last)
    names = tags.order_by("sort_name").values_list("name", flat=True)
    return list(names if limit is None else names[:limit])
