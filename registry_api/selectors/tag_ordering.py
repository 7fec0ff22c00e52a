"""Orders of a repository's tag list: last pushed, name (natural: v2 < v10) and size.

Names sort in Python (no database orders `v9` before `v10`), but only their names and ids are
read: `SortedTags` fetches the rows of the one page a paginator slices out.
"""

from __future__ import annotations

import re

from django.db.models import QuerySet

from registry_api.models import Tag

TAG_ORDERINGS = ("-last_pushed", "last_pushed", "name", "-name", "-size", "size")
DEFAULT_TAG_ORDERING = "-last_pushed"
_DATABASE_ORDERS = {
    "-last_pushed": ("-pushed_at", "name"),
    "last_pushed": ("pushed_at", "name"),
    "-size": ("-manifest__total_size", "name"),
    "size": ("manifest__total_size", "name"),
}
_PARTS_RE = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple:
    """`v1.10.0` after `v1.9.0`; a release after its pre-releases (`1.0.0-rc1` < `1.0.0`)."""
    release, dash, prerelease = name.partition("-")
    # A name with a pre-release part sorts just before the same name without one.
    return (_parts(release), 0 if dash else 1, _parts(prerelease), name)


def _parts(text: str) -> tuple:
    # (0, number) and (1, text) never compare a number with a string.
    return tuple((0, int(p)) if p.isdigit() else (1, p.lower()) for p in _PARTS_RE.split(text) if p)


class SortedTags:
    """A sequence of tags in natural name order that a Paginator can count and slice."""

    def __init__(self, queryset: QuerySet[Tag], *, descending: bool):
        self._queryset = queryset
        names = queryset.order_by().values_list("pk", "name")
        ordered = sorted(names, key=lambda row: natural_key(row[1]), reverse=descending)
        self._ids = [pk for pk, _name in ordered]

    def count(self) -> int:
        return len(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        ids = self._ids[index]
        rows = self._queryset.in_bulk(ids)
        return [rows[pk] for pk in ids if pk in rows]


def tags_ordered(queryset: QuerySet[Tag], ordering: str) -> QuerySet[Tag] | SortedTags:
    """The tags in one of TAG_ORDERINGS (the caller checks the value)."""
    if ordering in ("name", "-name"):
        return SortedTags(queryset, descending=ordering == "-name")
    return queryset.order_by(*_DATABASE_ORDERS[ordering])
