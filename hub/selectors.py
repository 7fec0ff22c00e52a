"""Reads of the index. Visibility goes through hub.permissions' rules, expressed as queries."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q, QuerySet

from hub.models import Namespace, Repository
from hub.names import PATH_COMPONENT_RE, REPOSITORY_PATH_RE


def _valid_name(value: str, pattern) -> bool:
    return len(value) <= 255 and bool(pattern.match(value))


def repository_visible_q(user) -> Q:
    """Return a filter matching the repositories `user` may view (public, or readable to them)."""
    public = Q(is_private=False)
    if not getattr(user, "is_authenticated", False):
        # Without ANONYMOUS_READ (the private profile) anonymous callers see nothing at all.
        return public if settings.ANONYMOUS_READ else Q(pk__in=[])
    if user.is_superuser:
        return Q()
    if "+" in user.username:  # a robot (hub.models.Robot): its grants, nothing from membership
        grants = Q(robot_grants__robot__user=user) | Q(
            namespace__robots__user=user, namespace__robots__permissions__repository__isnull=True
        )
        return public | grants
    return (
        public
        | Q(namespace__user=user)
        | Q(namespace__organization__membership__user=user)
        | Q(collaborators__user=user)
        | Q(team_grants__team__members=user)
    )


def repository_list_visible(*, user) -> QuerySet[Repository]:
    return (
        Repository.objects.filter(repository_visible_q(user)).select_related("namespace").distinct()
    )


def repository_get(*, namespace: str, name: str) -> Repository | None:
    """Return a repository by full name regardless of visibility; callers check permissions."""
    if not _valid_name(namespace, PATH_COMPONENT_RE) or not _valid_name(name, REPOSITORY_PATH_RE):
        return None  # URL text that is no name (NUL bytes break PostgreSQL) names nothing
    return (
        Repository.objects.select_related("namespace")
        .filter(namespace__name=namespace, name=name)
        .first()
    )


def repository_redirect_target(*, namespace: str, name: str) -> Repository | None:
    """The repository an old name now leads to (hub.models.RepositoryRedirect), regardless of
    visibility; callers check permissions on it, and treat an invisible one as no redirect."""
    if not _valid_name(namespace, PATH_COMPONENT_RE) or not _valid_name(name, REPOSITORY_PATH_RE):
        return None
    return (
        Repository.objects.select_related("namespace")
        .filter(redirects__namespace__name=namespace, redirects__name=name)
        .first()
    )


def repository_redirect_list(*, repository: Repository):
    """The old names that lead to this repository, newest first."""
    return repository.redirects.select_related("namespace", "created_by")


def namespace_get(*, name: str) -> Namespace | None:
    if not _valid_name(name, PATH_COMPONENT_RE):
        return None
    return Namespace.objects.select_related("user", "organization").filter(name=name).first()


def namespace_list_candidates(*, user) -> list[Namespace]:
    """The namespaces `user` might create repositories in, their own first: theirs, their
    organizations' (every organization's for a superuser); callers ask permissions.can_create."""
    if not getattr(user, "is_authenticated", False):
        return []
    mine = Q(user=user) | Q(organization__membership__user=user)
    if user.is_superuser:
        mine |= Q(kind=Namespace.Kind.ORGANIZATION)
    found = Namespace.objects.filter(mine).select_related("user", "organization").distinct()
    return sorted(found, key=lambda namespace: (namespace.user_id != user.pk, namespace.name))


def comment_list(*, repository: Repository):
    return repository.comments.select_related("author").order_by("created_at")


def collaborator_list(*, repository: Repository):
    return repository.collaborators.select_related("user").order_by("user__username")


def star_list(*, repository: Repository):
    return repository.stars.select_related("user").order_by("-created_at")


def repository_list_starred(*, user, viewer):
    """Repositories `user` starred that `viewer` may see."""
    return repository_list_visible(user=viewer).filter(stars__user=user)
