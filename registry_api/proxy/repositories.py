"""The local side of a mirrored repository: its namespace (a member-less system organization)
and the Repository row with `mirror_of`, created on the first cached pull."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from hub.models import Namespace, Organization, Repository
from hub.selectors import repository_get
from registry_api.names import repository_resolve
from registry_api.proxy.upstreams import Upstream


def mirror_namespace_ensure(*, name: str, upstream_url: str) -> Namespace:
    """The namespace `name`, created as an organization without members when absent.

    Nobody is a member, so only superusers administer it; pushes are refused by the gate.
    """
    namespace = Namespace.objects.filter(name=name).first()
    if namespace is not None:
        return namespace
    try:
        with transaction.atomic():
            organization = Organization.objects.create(
                name=name,
                display_name=name,
                description=f"Pull-through cache of {upstream_url}"[:200],
            )
            return Namespace.objects.create(
                name=name, kind=Namespace.Kind.ORGANIZATION, organization=organization
            )
    except IntegrityError:
        # Another process created it at the same moment.
        return Namespace.objects.get(name=name)


def mirror_repository_ensure(*, full_name: str, upstream: Upstream) -> Repository:
    """The repository for a mirrored name, made on first use: public, `mirror_of` the upstream
    repository (`host:port/name`, shown as the "mirror of" badge)."""
    from hub.services.repositories import repository_create

    namespace_name, name = repository_resolve(full_name)
    repository = repository_get(namespace=namespace_name, name=name)
    if repository is not None:
        return repository
    namespace = mirror_namespace_ensure(name=namespace_name, upstream_url=upstream.base_url)
    try:
        return repository_create(
            namespace=namespace,
            name=name,
            description=f"Mirror of {upstream.reference}"[:100],
            mirror_of=upstream.reference[:500],
        )
    except ValidationError:
        repository = repository_get(namespace=namespace_name, name=name)
        if repository is None:
            raise
        return repository
