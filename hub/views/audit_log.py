"""Portal pages of the audit log: a user's security log, an organization's (owners only)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render

from hub import permissions
from hub.selectors_audit import audit_list_namespace, audit_list_own
from hub.views.organizations import _organization_namespace

ENTRIES_PER_PAGE = 50


def _page(request, queryset, **context):
    page = Paginator(queryset.order_by("-created_at", "-pk"), ENTRIES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "hub/audit_log.html", {"page": page, **context})


@login_required
def security_log(request):
    return _page(request, audit_list_own(user=request.user), organization=None)


@login_required
def organization_audit_log(request, namespace: str):
    space = _organization_namespace(namespace)
    if not permissions.can_manage_organization(request.user, space):
        raise PermissionDenied
    return _page(request, audit_list_namespace(namespace=space), organization=space.name)
