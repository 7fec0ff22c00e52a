"""LDAP_GROUP_MAP and OIDC_GROUP_MAP: one grammar, one parser.

A JSON object of directory group (an LDAP DN, or a name in the OIDC groups claim) to
"admin" | "org:<name>" | "org:<name>/team:<team>". Group keys match case-insensitively.
"""

from __future__ import annotations

import json
from typing import NamedTuple

from django.core.exceptions import ImproperlyConfigured

from config.env import env_str


class Target(NamedTuple):
    """What a group grants: admin, or membership of `organization` (and of its `team`)."""

    admin: bool = False
    organization: str = ""
    team: str = ""


def target_parse(value: str) -> Target | None:
    """The Target a map value names, or None when it is not of the grammar."""
    if value == "admin":
        return Target(admin=True)
    if not value.startswith("org:"):
        return None
    organization, sep, team = value.removeprefix("org:").partition("/team:")
    if not organization or "/" in organization or (sep and not team):
        return None
    return Target(organization=organization, team=team)


def group_map_from_env(name: str) -> dict[str, Target]:
    """Parse the environment variable `name`; a bad value raises ImproperlyConfigured naming it."""
    raw = env_str(name, "").strip()
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ImproperlyConfigured(f"Environment variable {name} is not valid JSON: {exc}") from exc
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ImproperlyConfigured(
            f"Environment variable {name} must be a JSON object of group to target strings"
        )
    parsed = {}
    for group, target in value.items():
        parsed[group.lower()] = target_parse(target)
        if parsed[group.lower()] is None:
            raise ImproperlyConfigured(
                f"Environment variable {name}: {target!r} is not admin, org:<name> "
                "or org:<name>/team:<team>"
            )
    return parsed
