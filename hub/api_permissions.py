"""Access-token scope checks for REST actions that are not about one repository.

Repository actions go through hub.permissions with the request's scopes. Starring, commenting
and managing organizations change state outside any one repository, so a token needs a scope
that grants the matching repository action anywhere: a `repo:read` token stays read-only.
"""

from __future__ import annotations

from rest_framework import permissions

from hub.authentication import request_scopes
from hub.permissions import SCOPE_ACTIONS, anonymous_read_allowed


def token_allows(request, action: str) -> bool:
    """True for session/password callers, else whether a token scope grants `action`."""
    scopes = request_scopes(request)
    if scopes is None:
        return True
    return any(action in SCOPE_ACTIONS.get(scope, ()) for scope in scopes)


def _scopes_granting(action: str) -> list[str]:
    return [scope for scope, actions in SCOPE_ACTIONS.items() if action in actions]


def scope_denied_message(request, action: str) -> str:
    """Name the token's scopes and the one that would do: the caller's role is not the cause."""
    held = ", ".join(sorted(request_scopes(request) or ())) or "none"
    needed = _scopes_granting(action)
    return (
        f"Your access token's scopes ({held}) do not allow {action}; "
        f"it needs the {needed[0]} scope{' or higher' if len(needed) > 1 else ''}."
    )


class NotAnAccessToken(permissions.BasePermission):
    """Access tokens cannot create or revoke access tokens: that takes a password or session."""

    message = "Access tokens cannot manage access tokens; sign in with your password."

    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or request_scopes(request) is None


class AnonymousReadAllowed(permissions.BasePermission):
    """The default of every API view: anonymous callers read only while ANONYMOUS_READ is on
    (a view's own classes still decide the rest). Refused anonymous callers get 401."""

    def has_permission(self, request, view) -> bool:
        return anonymous_read_allowed(request.user)
