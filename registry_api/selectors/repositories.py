"""Reads of repositories for the /v2/ endpoints: the gate's lookup by name and the catalog."""

from __future__ import annotations

from django.db.models import F, Value
from django.db.models.functions import Concat

from hub.models import Repository
from hub.selectors import repository_get, repository_list_visible
from registry_api import lookups
from registry_api.selectors.ordering import bytewise, no_nul


def repository_lookup(*, namespace: str, name: str) -> Repository | None:
    """hub.selectors.repository_get for the /v2/ gate, remembered per process (lookups).

    The namespace row is not part of what is remembered: it loads on first use.
    """
    entry_key = ("repository", namespace, name)
    current = lookups.tokens([lookups.NAMES_KEY])
    repository = lookups.remembered(entry_key, current)
    if repository is not None:
        return repository
    repository = repository_get(namespace=namespace, name=name)
    if repository is not None:
        lookups.remember(entry_key, current, repository)
    return repository


def catalog_names(*, user, limit: int, last: str = "") -> list[str]:
    """Full names of the repositories `user` may view, in byte order, after `last`."""
    full_name = bytewise(Concat(F("namespace__name"), Value("/"), F("name")))
    repositories = repository_list_visible(user=user).annotate(full=full_name)
    last = no_nul(last)
    if last:
        repositories = repositories.filter(full__gt=last)
    return list(repositories.order_by("full").values_list("full", flat=True)[:limit])
