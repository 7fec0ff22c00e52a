"""Reads of repositories for the /v2/ endpoints: the gate's lookup by name and the catalog."""

from __future__ import annotations

from django.db.models import Case, CharField, F, Q, Value, When
from django.db.models.functions import Concat

from hub.models import Repository
from hub.names import OFFICIAL_NAMESPACE
from hub.selectors import repository_get, repository_list_visible, repository_redirect_target
from registry_api import lookups
from registry_api.selectors.ordering import bytewise, no_nul


def repository_lookup(*, namespace: str, name: str) -> Repository | None:
    """hub.selectors.repository_get for the /v2/ gate, remembered per process (lookups).

    The namespace row is not part of what is remembered: it loads on first use.
    """
    entry_key = ("repository", namespace, name)
    known = lookups.remembered_pk(entry_key)  # then its manifest lookup's token comes along
    also = [lookups.repository_key(known)] if known is not None else []
    current = lookups.tokens([lookups.NAMES_KEY], also=also)
    repository = lookups.remembered(entry_key, current)
    if repository is not None:
        return repository
    repository = repository_get(namespace=namespace, name=name)
    if repository is not None:
        lookups.remember(entry_key, current, repository)
    return repository


def redirect_lookup(*, namespace: str, name: str) -> Repository | None:
    """The repository an old name leads to (hub.selectors.repository_redirect_target),
    remembered per process like repository_lookup (redirect rows void the same token)."""
    entry_key = ("redirect", namespace, name)
    current = lookups.tokens([lookups.NAMES_KEY])
    repository = lookups.remembered(entry_key, current)
    if repository is not None:
        return repository
    repository = repository_redirect_target(namespace=namespace, name=name)
    if repository is not None:
        lookups.remember(entry_key, current, repository)
    return repository


def display_name_expression():
    """A repository's name as clients show it (hub.names.name_display), for the database:
    `library/centos` is `centos`, `library/a/b` stays as it is."""
    return Case(
        When(
            Q(namespace__name=OFFICIAL_NAMESPACE) & ~Q(name__contains="/"),
            then=F("name"),
        ),
        default=Concat(F("namespace__name"), Value("/"), F("name")),
        output_field=CharField(),
    )


def catalog_names(*, user, limit: int, last: str = "") -> list[str]:
    """Names of the repositories `user` may view as clients write them (`centos` for
    `library/centos`, as registry:2 lists it), in byte order, after `last`."""
    repositories = repository_list_visible(user=user).annotate(
        shown=bytewise(display_name_expression())
    )
    last = no_nul(last)
    if last:
        repositories = repositories.filter(shown__gt=last)
    return list(repositories.order_by("shown").values_list("shown", flat=True)[:limit])
