"""The local side of a mirrored repository: the Repository row with `mirror_of`, created on the
first cached pull, and where it lives.

A read never claims a name somebody could sign up for. A proxy cache's namespace is the
administrator's (reserved when the cache is saved), and so is `library`, Docker Hub's official
images; both hold their cached repositories as `<namespace>/<name>`. The prefix-less mirror keeps
every other name it caches (`squatted/x`) in one system namespace, `_mirror`, as the repository
`squatted/x`: no account can be called that, so no sign-up is ever blocked, and a user who later
signs up as `squatted` starts with an empty namespace the cached copies stay out of (nobody can
push into them, so a sign-up cannot poison what the mirror served).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from hub.models import Namespace, Organization, Repository
from hub.names import OFFICIAL_NAMESPACE
from hub.selectors import repository_get
from registry_api.names import repository_resolve
from registry_api.proxy.upstreams import Upstream, proxy_cache_for

# Where the prefix-less mirror keeps names in namespaces nobody created: not an account name.
MIRROR_HOME = "_mirror"


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


def _home_repositories(full_name: str):
    return Repository.objects.select_related("namespace").filter(
        namespace__name=MIRROR_HOME, name=full_name
    )


def mirror_repository_find(*, full_name: str, upstream: Upstream) -> Repository | None:
    """The cached repository of a mirrored name, wherever it lives, or None.

    One in the mirror's own namespace counts only for the upstream repository it mirrors: a
    proxy cache configured later for that namespace starts its own.
    """
    namespace_name, name = repository_resolve(full_name)
    found = repository_get(namespace=namespace_name, name=name)
    if found is not None:
        return found
    return _home_repositories(full_name).filter(mirror_of=upstream.reference[:500]).first()


def _home_for(namespace_name: str, name: str, upstream: Upstream) -> tuple[Namespace, str]:
    """(namespace, repository name) a new cached repository goes to; see the module docstring."""
    namespace = Namespace.objects.filter(name=namespace_name).first()
    if namespace is not None:
        return namespace, name
    if namespace_name == OFFICIAL_NAMESPACE or proxy_cache_for(namespace_name) is not None:
        return mirror_namespace_ensure(name=namespace_name, upstream_url=upstream.base_url), name
    home = mirror_namespace_ensure(name=MIRROR_HOME, upstream_url=upstream.base_url)
    return home, f"{namespace_name}/{name}"


def mirror_repository_ensure(*, full_name: str, upstream: Upstream) -> Repository:
    """The repository for a mirrored name, made on first use: public, `mirror_of` the upstream
    repository (`host:port/name`, shown as the "mirror of" badge)."""
    from hub.services.repositories import repository_create

    repository = mirror_repository_find(full_name=full_name, upstream=upstream)
    if repository is not None:
        return repository
    namespace_name, name = repository_resolve(full_name)
    namespace, name = _home_for(namespace_name, name, upstream)
    try:
        return repository_create(
            namespace=namespace,
            name=name,
            description=f"Mirror of {upstream.reference}"[:100],
            mirror_of=upstream.reference[:500],
            is_private=False,  # whatever DEFAULT_VISIBILITY says: who pulls is the cache's rule
        )
    except ValidationError:
        repository = mirror_repository_find(full_name=full_name, upstream=upstream)
        if repository is not None:
            return repository
        # MIRROR_UPSTREAM_URL changed: the name's home repository now mirrors the new upstream.
        home = _home_repositories(full_name).first()
        if home is None:
            raise
        Repository.objects.filter(pk=home.pk).update(mirror_of=upstream.reference[:500])
        home.mirror_of = upstream.reference[:500]
        return home
