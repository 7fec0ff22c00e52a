"""Who may do what to a repository name: the one authorization decision.

Every surface asks here and nowhere else: the token service (what a token grants), the /v2/
gate (Basic callers, and Bearer grants held against the name's rules), the REST API and the UI
(through the `can_*` helpers). `user` may be anonymous. `scopes` are the access-token scopes
the request authenticated with (None for a password or a session): a token never grants more
than its user has.

The rules, for a repository name:
- an existing repository: the caller's role (namespace owner or member, collaborator, team),
  limited by the scopes; anyone pulls a public one; nobody pushes into a mirrored one;
- an absent one: a name a pull-through cache serves may be pulled (by anyone, or only by
  signed-in users when the cache says so); elsewhere whoever may create it holds what they will
  hold once it exists;
- an old name of a moved repository (a RepositoryRedirect): `pull`, for whoever may pull the
  repository it leads to, and nothing else (pushes never follow a redirect); for anyone else the
  old name is like any absent one;
- without `pull` the caller holds nothing: a private repository they may not see is exactly
  like an absent one;
- with `ANONYMOUS_READ` off (the private profile) an anonymous caller holds nothing anywhere,
  public repositories and mirrored names included.

Which names a pull-through cache serves is data (a `NamePolicy`) from a provider the registry
app registers at start-up, so the decision never reaches into the registry's code.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q

from hub.credentials import is_robot
from hub.models import (
    Collaborator,
    Membership,
    Namespace,
    Repository,
    RobotPermission,
    TeamRepository,
)
from hub.names import REPOSITORY_PATH_RE, name_canonical
from hub.selectors import namespace_get, repository_get, repository_redirect_target

ROLE_ACTIONS = {
    "admin": {"pull", "push", "delete", "admin"},
    "delete": {"pull", "push", "delete"},  # robots' highest grant: never admin
    "write": {"pull", "push"},
    "read": {"pull"},
}
# A robot's RobotPermission level as a role.
ROBOT_LEVEL_ROLES = {"pull": "read", "push": "write", "delete": "delete"}
_RANKED_ROLES = ("admin", "delete", "write", "read")
SCOPE_ACTIONS = {
    "repo:read": {"pull"},
    "repo:write": {"pull", "push"},
    "repo:delete": {"pull", "push", "delete"},
    "repo:admin": {"pull", "push", "delete", "admin"},
}


@dataclass(frozen=True)
class NamePolicy:
    """What the registry says about a repository name, whether or not it exists."""

    mirrored: bool = False  # an upstream registry serves pulls of the name (pull-through cache)
    sign_in_required: bool = False  # pulling it from the cache needs a signed-in user


NOT_MIRRORED = NamePolicy()


def _no_mirrors(full_name: str) -> NamePolicy:
    return NOT_MIRRORED


_name_policy_provider: Callable[[str], NamePolicy] = _no_mirrors


def name_policy_provider_set(provider: Callable[[str], NamePolicy]) -> None:
    """Install the function that answers the NamePolicy of a name (the registry app does)."""
    global _name_policy_provider
    _name_policy_provider = provider


def name_policy(full_name: str) -> NamePolicy:
    return _name_policy_provider(full_name)


@dataclass
class Access:
    """The decision on one name: the actions the caller holds, and whether a cache serves it."""

    actions: set[str]
    mirrored: bool = False


def _authenticated(user) -> bool:
    return getattr(user, "is_authenticated", False)


def anonymous_read_allowed(user) -> bool:
    """False for an anonymous caller when reads need a signed-in user (ANONYMOUS_READ off)."""
    return settings.ANONYMOUS_READ or _authenticated(user)


def _scope_allows(scopes: Collection[str] | None, action: str) -> bool:
    if scopes is None:
        return True
    return any(action in SCOPE_ACTIONS.get(scope, ()) for scope in scopes)


def _scoped(actions: Collection[str], scopes: Collection[str] | None) -> set[str]:
    return {action for action in actions if _scope_allows(scopes, action)}


def robot_role(user, namespace_id: int, repository: Repository | None) -> str | None:
    """A robot's role from its grants: on `repository` (its own grant or the namespace-wide
    one), or with `repository` None on the namespace's absent names (namespace-wide only)."""
    grants = RobotPermission.objects.filter(robot__user=user, robot__namespace_id=namespace_id)
    target = Q(repository__isnull=True)
    if repository is not None:
        target |= Q(repository=repository)
    levels = {
        ROBOT_LEVEL_ROLES[level] for level in grants.filter(target).values_list("level", flat=True)
    }
    ranked = [r for r in _RANKED_ROLES if r in levels]
    return ranked[0] if ranked else None


def namespace_role(user, namespace: Namespace) -> str | None:
    """Return the role a user holds over a whole namespace: "admin", "write" or None.

    None for a robot: it owns nothing and is nobody's member (its grants are per repository)."""
    if not _authenticated(user) or is_robot(user):
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
    if not _authenticated(user):
        return None  # without reading the namespace: anonymous callers cost the same everywhere
    if is_robot(user):
        return robot_role(user, repository.namespace_id, repository)
    role = namespace_role(user, repository.namespace)
    if role == "admin":
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
    ranked = [r for r in _RANKED_ROLES if r in granted]
    return ranked[0] if ranked else None


def _mirror_limited(actions: set[str], user, policy: NamePolicy) -> set[str]:
    # Mirrored content comes only from the upstream; the cache may require signing in.
    actions = actions - {"push"}
    if policy.sign_in_required and not _authenticated(user):
        actions.discard("pull")
    return actions


def _name_access(actions: set[str], user, full_name: str, repository, absent_actions) -> Access:
    """Hold `actions` against the name's rules; `absent_actions(mirrored)` are those on a name
    without a repository.

    The name policy is read for every name the caller may not pull from a local repository, so
    a private repository and an absent one cost the same queries (no timing difference).
    """
    local = repository is not None and not repository.mirror_of
    policy = NOT_MIRRORED if local and "pull" in actions else name_policy(full_name)
    mirrored = policy.mirrored and not local
    if repository is None:
        actions = absent_actions(mirrored)
    if mirrored or (repository is not None and repository.mirror_of):
        actions = _mirror_limited(actions, user, policy)
    return Access(actions=actions, mirrored=mirrored)


def _creator_actions(user, full_name: str, scopes: Collection[str] | None) -> set[str]:
    """On a name nobody holds yet: what its creator will hold once the first push made it."""
    if not _authenticated(user):
        return set()  # without reading the namespace, as for an existing repository
    namespace_name, _, rest = full_name.partition("/")
    namespace = namespace_get(name=namespace_name) if rest else None
    if is_robot(user):
        # Only a namespace-wide push (or delete) grant creates repositories by pushing.
        role = robot_role(user, namespace.pk, None) if namespace is not None else None
        allowed = ROLE_ACTIONS.get(role or "", ()) if role in ("write", "delete") else ()
        return _scoped(allowed, scopes)
    # A first `delete` after the first push then needs no new token.
    return _scoped(ROLE_ACTIONS.get(_creator_role(user, namespace, scopes) or "", ()), scopes)


_LOOK_UP = object()


def repository_access(
    user, full_name: str, scopes: Collection[str] | None = None, *, repository=_LOOK_UP
) -> Access:
    """The decision for a caller on repository `full_name` (`repository`: its row, or None when
    the caller already looked it up and it is absent)."""
    if not REPOSITORY_PATH_RE.fullmatch(full_name) or not anonymous_read_allowed(user):
        return Access(actions=set())
    full_name = name_canonical(full_name)  # `centos` is `library/centos`: one decision for both
    if repository is _LOOK_UP:
        namespace_name, _, name = full_name.partition("/")
        repository = repository_get(namespace=namespace_name, name=name) if name else None
        target = None
        if repository is None and name:
            target = repository_redirect_target(namespace=namespace_name, name=name)
        if target is not None and (moved := redirect_access(user, target, scopes)).actions:
            return moved
    actions: set[str] = set()
    if repository is not None:
        actions = _scoped(ROLE_ACTIONS.get(repository_role(user, repository) or "", ()), scopes)
        if not repository.is_private:
            actions.add("pull")

    def absent_actions(mirrored: bool) -> set[str]:
        return {"pull"} if mirrored else _creator_actions(user, full_name, scopes)

    access = _name_access(actions, user, full_name, repository, absent_actions)
    if "pull" not in access.actions:
        access.actions = set()
    return access


def redirect_access(user, target: Repository, scopes: Collection[str] | None = None) -> Access:
    """On an old name of `target`: `pull` if the caller may pull `target` itself, else nothing
    (the old name then is like any unknown one: it never tells a private repository's name).

    An anonymous caller is answered without a query for a private target, so an old name costs
    them what an unknown one does (no timing oracle)."""
    if not _authenticated(user) and target.is_private:
        return Access(actions=set())
    pulls = can_pull(user, target, scopes)
    return Access(actions={"pull"} if pulls else set())


def token_access(granted: set[str], user, full_name: str, repository: Repository | None) -> Access:
    """A verified token's grants on `full_name`, held against the name's rules (a name that a
    cache began serving after the token was issued is not pushed to)."""
    full_name = name_canonical(full_name)
    return _name_access(set(granted), user, full_name, repository, lambda mirrored: set(granted))


def allowed_actions(
    user, repository: Repository, scopes: Collection[str] | None = None
) -> set[str]:
    """Return the subset of {pull, push, delete, admin} this caller may do on the repository."""
    return repository_access(user, repository.full_name, scopes, repository=repository).actions


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
    return _creator_role(user, namespace, scopes) is not None


def _creator_role(user, namespace: Namespace | None, scopes: Collection[str] | None) -> str | None:
    if namespace is None or not _scope_allows(scopes, "push") or is_robot(user):
        return None  # robots create repositories only by a push (see _creator_actions)
    role = namespace_role(user, namespace)
    return role if role in ("admin", "write") else None


def can_admin_namespace(user, namespace: Namespace, scopes: Collection[str] | None = None) -> bool:
    """May this caller administer every repository of the namespace at once (e.g. its
    immutability rules)? Its owners: the user of a user namespace, an organization's owners,
    superusers; an access token needs an admin scope."""
    return _scope_allows(scopes, "admin") and namespace_role(user, namespace) == "admin"


def can_transfer(user, repository: Repository, scopes: Collection[str] | None = None) -> bool:
    """May this caller rename the repository or move it to another namespace (and manage the
    redirects its old names left)? The owners of its namespace: the user, an organization's
    owners, superusers; an access token needs an admin scope. The destination needs can_create
    too."""
    return can_admin_namespace(user, repository.namespace, scopes) and not repository.mirror_of


def can_manage_organization(user, namespace: Namespace) -> bool:
    return namespace.is_organization and namespace_role(user, namespace) == "admin"


def can_grant_badges(user) -> bool:
    """Only administrators grant the verified-publisher and sponsored badges, never owners."""
    return (
        _authenticated(user)
        and user.is_active
        and user.is_staff
        and user.has_perm("hub.change_organization")
    )


def can_set_quota(user) -> bool:
    """Only administrators set storage quotas: superusers, or staff with the quota permission
    (never an organization's owners, whose usage the quota bounds)."""
    return (
        _authenticated(user)
        and user.is_active
        and user.is_staff
        and user.has_perm("hub.change_namespacequota")
    )


def can_view_usage(user, namespace: Namespace) -> bool:
    """A namespace's storage usage and quota are for its owner or members and administrators:
    the sizes of private repositories are not for visitors."""
    return namespace_role(user, namespace) is not None or can_set_quota(user)
