"""Does an installed version fall in an OSV affected entry? (osv-schema "Evaluation").

Events of one range are sorted by the ecosystem's version order ("0" before everything); the
version is affected from an `introduced` on, until a `fixed` (exclusive) or past a
`last_affected` (inclusive). An explicit `versions` list also counts.
"""

from __future__ import annotations

from functools import cmp_to_key

from scanning.versions import version_compare

_EVENT_ORDER = {"introduced": 0, "fixed": 1, "last_affected": 1, "limit": 1}


def _event(event: dict) -> tuple[str, str] | None:
    for kind in ("introduced", "fixed", "last_affected", "limit"):
        if kind in event:
            return kind, str(event[kind])
    return None


def _sorted_events(ecosystem: str, events: list[dict]) -> list[tuple[str, str]]:
    parsed = [item for event in events if (item := _event(event)) is not None]

    def compare(left, right) -> int:
        if left[1] == right[1]:
            return _EVENT_ORDER[left[0]] - _EVENT_ORDER[right[0]]
        if left[1] == "0":
            return -1
        if right[1] == "0":
            return 1
        return version_compare(ecosystem, left[1], right[1])

    return sorted(parsed, key=cmp_to_key(compare))


def range_affects(ecosystem: str, version: str, events: list[dict]) -> bool:
    affected = False
    for kind, value in _sorted_events(ecosystem, events):
        if kind == "introduced" and (
            value == "0" or version_compare(ecosystem, version, value) >= 0
        ):
            affected = True
        elif kind in ("fixed", "last_affected"):
            # fixed is the first unaffected version; last_affected the last affected one.
            limit = 0 if kind == "fixed" else 1
            if version_compare(ecosystem, version, value) >= limit:
                affected = False
    return affected


def version_affected(
    ecosystem: str, version: str, *, ranges: list[list[dict]], versions: list[str]
) -> bool:
    if version in versions:
        return True
    return any(range_affects(ecosystem, version, events) for events in ranges)


def fixed_version(ecosystem: str, version: str, ranges: list[list[dict]]) -> str:
    """The lowest `fixed` above the installed version ("" when no fix is known)."""
    fixes = [
        str(event["fixed"])
        for events in ranges
        for event in events
        if "fixed" in event and version_compare(ecosystem, str(event["fixed"]), version) > 0
    ]
    if not fixes:
        return ""
    return min(fixes, key=cmp_to_key(lambda a, b: version_compare(ecosystem, a, b)))
