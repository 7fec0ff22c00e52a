"""Who may do what to a repository. Every surface asks these functions and nothing else.

`user` may be anonymous. `scopes` are the access-token scopes the request authenticated with
(None for a password or a session): a token never grants more than its user has.
"""

from __future__ import annotations

from collections.abc import Collection

from hub.models import Collaborator, Membership, Namespace, Repository, TeamRepository

ROLE_ACTIONS = {
    "admin": {"pull", "push", "delete", "admin"},
    "write": {"pull", "push"},
    "read": {"pull"},
}
SCOPE_ACTIONS = {
    "repo:read": {"pull"},
    "repo:write": {"pull", "push"},
    "repo:delete": {"pull", "push", "delete"},
    "repo:admin": {"pull", "push", "delete", "admin"},
}


def _scope_allows(scopes: Collection[str] | None, action: str) -> bool:
    if scopes is None:
        return True
    return any(action in SCOPE_ACTIONS.get(scope, ()) for scope in scopes)


def namespace_role(user, namespace: Namespace) -> str | None:
    """Return the role a user holds over a whole namespace: "admin", "write" or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    if user.is_superuser:
        return "admin"
    if namespace.kind == Namespace.Kind.USER:
        return "admin" if namespace.user_id == user.pk else None
    membership = Membership.objects.filter(
        organization_id=namespace.organization_id, user=user
    ).first()
    if membership is None:
        return None
    return "admin" if membership.role == Membership.Role.OWNER else "write"


def repository_role(user, repository: Repository) -> str | None:
    """Return "admin", "write", "read" or None for a user on one repository."""
    role = namespace_role(user, repository.namespace)
    if role == "admin" or not getattr(user, "is_authenticated", False):
        return role
    # One query for both grants: the user's own (collaborator) and their teams'.
    granted = set(
        Collaborator.objects.filter(repository=repository, user=user)
        .values_list("role", flat=True)
        .union(
            TeamRepository.objects.filter(repository=repository, team__members=user).values_list(
                "role", flat=True
            )
        )
    )
    granted.add(role)
    ranked = [r for r in ("admin", "write", "read") if r in granted]
    return ranked[0] if ranked else None


def allowed_actions(
    user, repository: Repository, scopes: Collection[str] | None = None
) -> set[str]:
    """Return the subset of {pull, push, delete, admin} this caller may do on the repository."""
    granted = ROLE_ACTIONS.get(repository_role(user, repository) or "", set())
    actions = {action for action in granted if _scope_allows(scopes, action)}
    if not repository.is_private:
        actions.add("pull")
    if repository.mirror_of:
        # A mirrored repository is filled only from its upstream.
        actions.discard("push")
    return actions


def can_view(user, repository: Repository, scopes: Collection[str] | None = None) -> bool:
    return "pull" in allowed_actions(user, repository, scopes)


def can_pull(user, repository: Repository, scopes: Collection[str] | None = None) -> bool:
    return "pull" in allowed_actions(user, repository, scopes)


def can_push(user, repository: Repository, scopes: Collection[str] | None = None) -> bool:
    return "push" in allowed_actions(user, repository, scopes)


def can_delete(user, repository: Repository, scopes: Collection[str] | None = None) -> bool:
    return "delete" in allowed_actions(user, repository, scopes)


def can_admin(user, repository: Repository, scopes: Collection[str] | None = None) -> bool:
    return "admin" in allowed_actions(user, repository, scopes)


def can_create(user, namespace: Namespace | None, scopes: Collection[str] | None = None) -> bool:
    """May this caller create a repository in the namespace (by push or form)?"""
    if namespace is None or not _scope_allows(scopes, "push"):
        return False
    return namespace_role(user, namespace) in ("admin", "write")


def can_manage_organization(user, namespace: Namespace) -> bool:
    return namespace.is_organization and namespace_role(user, namespace) == "admin"
