"""The namespace a settings page manages: the signed-in user's own, or an organization its
owners manage (robots, signing keys)."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.http import Http404

from hub.models import Namespace
from hub.selectors import namespace_get


def managed_namespace(request, org: str | None, *, may_manage: Callable) -> Namespace:
    """The user's namespace (org None), or organization `org` when `may_manage(user, namespace)`;
    404 for an unknown or non-organization name, 403 for one the user does not manage."""
    if org is None:
        namespace = Namespace.objects.filter(user=request.user).first()
    else:
        namespace = namespace_get(name=org)
        if namespace is None or not namespace.is_organization:
            raise Http404
        if not may_manage(request.user, namespace):
            raise PermissionDenied
    if namespace is None:
        raise Http404
    return namespace
