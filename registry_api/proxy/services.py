"""Configuring per-namespace proxy caches (admin site and REST API, administrators only)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction

from hub.models import Namespace
from hub.names import PATH_COMPONENT_RE
from registry_api.models import ProxyCache
from registry_api.proxy.addresses import upstream_address_problem
from registry_api.proxy.repositories import mirror_namespace_ensure
from registry_api.proxy.upstreams import namespace_is_mirror_owned
from registry_api.services.tags import tags_expire


def proxy_cache_validate(*, namespace: str, upstream_url: str, instance=None) -> None:
    """Refuse a namespace someone owns here (a user's, or an organization with members), an
    upstream that is not an http(s) URL, and one on a non-public address (unless allowed)."""
    errors = {}
    if not PATH_COMPONENT_RE.match(namespace or ""):
        errors["namespace"] = "Use lowercase letters and digits, separated by '.', '_' or '-'."
    elif not namespace_is_mirror_owned(Namespace.objects.filter(name=namespace).first()):
        errors["namespace"] = "This namespace belongs to a user or an organization with members."
    elif (
        ProxyCache.objects.filter(namespace=namespace)
        .exclude(pk=getattr(instance, "pk", None))
        .exists()
    ):
        errors["namespace"] = "This namespace is already a proxy cache."
    parts = urlsplit(upstream_url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        errors["upstream_url"] = "Give the registry's base URL, e.g. https://registry-1.docker.io."
    elif parts.query or parts.fragment:
        errors["upstream_url"] = "The upstream URL takes no query or fragment."
    elif problem := upstream_address_problem(upstream_url):
        errors["upstream_url"] = problem
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def proxy_cache_save(*, proxy_cache: ProxyCache) -> ProxyCache:
    """Save a validated proxy cache and reserve its namespace (a member-less organization), so
    nobody signs up under that name before the first pull."""
    proxy_cache.upstream_url = proxy_cache.upstream_url.rstrip("/")
    proxy_cache.save()
    mirror_namespace_ensure(name=proxy_cache.namespace, upstream_url=proxy_cache.upstream_url)
    return proxy_cache


def proxy_cache_expire(*, proxy_cache: ProxyCache) -> int:
    """Make every cached tag of the namespace revalidate on its next pull; return how many."""
    return tags_expire(namespace=proxy_cache.namespace)
