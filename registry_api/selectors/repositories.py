"""Reads of repositories for the /v2/ endpoints: the gate's lookup by name and the catalog."""

from __future__ import annotations

from django.db.models import F, Value
from django.db.models.functions import Concat

from hub.models import Repository
from hub.selectors import repository_get, repository_list_visible
from registry_api.selectors.ordering import bytewise, no_nul


def repository_lookup(*, namespace: str, name: str) -> Repository | None:
    """The repository of the /v2/ gate, without its namespace row (loaded on first use)."""
    return repository_get(namespace=namespace, name=name)


def catalog_names(*, user, limit: int, last: str = "") -> list[str]:
    """Full names of the repositories `user` may view, in byte order, after `last`."""
    full_name = bytewise(Concat(F("namespace__name"), Value("/"), F("name")))
    repositories = repository_list_visible(user=user).annotate(full=full_name)
    last = no_nul(last)
    if last:
        repositories = repositories.filter(full__gt=last)
    return list(repositories.order_by("full").values_list("full", flat=True)[:limit])
