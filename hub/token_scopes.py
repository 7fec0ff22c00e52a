"""Docker token spec scopes: parse what a client asks for, grant what hub.permissions allows."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from hub import permissions

REPOSITORY_ACTIONS = ("pull", "push", "delete")
# `repository(plugin)`: the resource class is deprecated and ignored.
_TYPE_RE = re.compile(r"^([a-z0-9]+)(?:\([a-z0-9]+\))?\Z")


@dataclass(frozen=True)
class Scope:
    type: str
    name: str
    actions: tuple[str, ...]


def scope_parse(text: str) -> Scope | None:
    """Parse `type[(class)]:name:action[,action]`; the name may itself hold `host:port/`."""
    head, sep, actions = text.strip().rpartition(":")
    resource_type, sep2, name = head.partition(":")
    match = _TYPE_RE.match(resource_type)
    if not sep or not sep2 or not name or match is None:
        return None
    wanted = tuple(dict.fromkeys(a.strip() for a in actions.split(",") if a.strip()))
    return Scope(type=match.group(1), name=name, actions=wanted)


def scopes_parse(values: Iterable[str]) -> list[Scope]:
    """Parse every scope value; a value may itself hold several scopes separated by spaces."""
    parsed = []
    for value in values:
        for text in value.split():
            scope = scope_parse(text)
            if scope is not None:
                parsed.append(scope)
    return parsed


def access_grant(user, requested: list[Scope], token_scopes=None) -> list[dict]:
    """Return the token `access` claim: the intersection of requested and allowed actions."""
    grants: dict[tuple[str, str], list[str]] = {}
    for scope in requested:
        if scope.type == "repository":
            wanted = set(scope.actions)
            if "*" in wanted:
                wanted = (wanted - {"*"}) | set(REPOSITORY_ACTIONS)
            allowed = permissions.repository_access(user, scope.name, token_scopes).actions
            granted = [a for a in REPOSITORY_ACTIONS if a in wanted and a in allowed]
        elif scope.type == "registry" and scope.name == "catalog":
            # The catalog lists only what the token's subject may view; anyone may ask, unless
            # reads need signing in (ANONYMOUS_READ off).
            asked = "*" in scope.actions and permissions.anonymous_read_allowed(user)
            granted = ["*"] if asked else []
        else:
            granted = []  # unknown resource types grant nothing
        key = (scope.type, scope.name)
        merged = grants.setdefault(key, [])
        merged.extend(a for a in granted if a not in merged)
    return [
        {"type": resource_type, "name": name, "actions": actions}
        for (resource_type, name), actions in grants.items()
    ]
