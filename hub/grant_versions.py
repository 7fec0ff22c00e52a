"""Permission versions: the cheap per-request check that a registry token's grants still hold.

The services bump a version whenever what a user may do changes (memberships, teams, access
tokens, password, deactivation) or what may be done on a repository changes (collaborators,
team grants, visibility, deletion). A token carries the versions current when it was issued;
the /v2/ gate compares them on writes and on private repositories and, on any difference,
decides again from the database (the truth: the cache, shared by every process, only says when
asking the database can be skipped). A version missing from the cache counts as a difference.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.core.cache import cache
from django.db import transaction
from django.utils.crypto import constant_time_compare, salted_hmac

from hub.names import name_canonical

CLAIM = "dky"  # the private claim of our registry tokens holding the stamp
_PREFIX = "grant-version:"
_SALT = "dockyard.registry-token"


def _user_key(user_id) -> str:
    return f"{_PREFIX}u:{user_id}"


def _repository_key(full_name: str) -> str:
    # Keyed on the canonical name: a token for `centos` is revoked with `library/centos`.
    return f"{_PREFIX}r:{name_canonical(full_name)}"


def _bump(key: str) -> None:
    def bump() -> None:
        cache.set(key, uuid.uuid4().hex[:12], timeout=None)

    bump()
    # Again after the commit: a token issued before it saw the old grants with the new version.
    transaction.on_commit(bump)


def user_changed(user_id: int) -> None:
    """What this user may do changed (memberships, teams, tokens, password, deactivation)."""
    _bump(_user_key(user_id))


def repository_changed(repository) -> None:
    """What may be done on this repository changed (collaborators, grants, visibility)."""
    _bump(_repository_key(repository.full_name))


def _current(keys: Iterable[str]) -> dict[str, str]:
    keys = list(keys)
    found = cache.get_many(keys)
    for key in keys:
        if key not in found:
            fresh = uuid.uuid4().hex[:12]
            found[key] = fresh if cache.add(key, fresh, timeout=None) else cache.get(key, "")
    return found


def password_fingerprint(user) -> str:
    return salted_hmac(_SALT, user.password or "").hexdigest()[:16]


def stamp(credentials, access: list[dict]) -> dict:
    """The claim a new token carries: the versions its grants were decided at, and what the
    caller authenticated with (the access token, or the password's fingerprint)."""
    names = [
        name_canonical(e["name"]) for e in access if e["type"] == "repository" and e["actions"]
    ]
    user = credentials.user if credentials is not None else None
    keys = [_repository_key(name) for name in names]
    if user is not None:
        keys.append(_user_key(user.pk))
    versions = _current(keys)
    claim: dict = {"r": {name: versions[_repository_key(name)] for name in names}}
    if user is not None:
        claim["i"], claim["u"] = user.pk, versions[_user_key(user.pk)]
        if credentials.token is not None:
            claim["t"] = str(credentials.token.uuid)
        else:
            claim["p"] = password_fingerprint(user)
    return claim


def stamp_current(claims: dict, full_name: str) -> bool:
    """Do the token's versions for this repository (and its user) still hold?"""
    claim = claims.get(CLAIM)
    if not isinstance(claim, dict) or not isinstance(claim.get("r"), dict):
        return False
    wanted = {_repository_key(full_name): claim["r"].get(name_canonical(full_name))}
    if claims.get("sub"):
        if claim.get("i") is None:
            return False
        wanted[_user_key(claim["i"])] = claim.get("u")
    found = cache.get_many(list(wanted))
    return all(
        isinstance(version, str) and version and constant_time_compare(found.get(key, ""), version)
        for key, version in wanted.items()
    )


def token_principal(claims: dict, user):
    """The credentials a token stands for today: (user, scopes), or None when they no longer
    hold (user deactivated, password changed, access token revoked or expired)."""
    from hub.models import AccessToken

    if not claims.get("sub"):
        return user, None  # anonymous
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    claim = claims.get(CLAIM) if isinstance(claims.get(CLAIM), dict) else {}
    if claim.get("t"):
        token = AccessToken.objects.filter(uuid=claim["t"], user=user).first()
        if token is None or not token.is_active:
            return None
        return user, tuple(token.scopes)
    if "p" in claim and not constant_time_compare(str(claim["p"]), password_fingerprint(user)):
        return None
    return user, None
