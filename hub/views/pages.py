"""HTML views of the index: explore, profiles and the error pages."""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from hub import permissions, selectors
from hub.names import OFFICIAL_NAMESPACE
from hub.search import badge_filter
from hub.selectors_accounts import membership_list_visible
from hub.views.search import BADGE_FILTERS, badge_flags

EXPLORE_SIZE = 12


def _badge_links(request, badges: dict[str, bool]) -> list[tuple[str, str, bool]]:
    """(label, URL toggling that badge filter, whether it is on) for each badge filter."""
    links = []
    for name, label in BADGE_FILTERS.items():
        params = request.GET.copy()
        if badges[name]:
            params.pop(name, None)
        else:
            params[name] = "1"
        links.append((label, f"?{params.urlencode()}" if params else "?", badges[name]))
    return links


def explore(request):
    visible = selectors.repository_list_visible(user=request.user).select_related(
        "namespace__organization"
    )
    badges = badge_flags(request.GET)
    public = badge_filter(visible.filter(is_private=False), **badges)
    context = {
        "popular": public.order_by("-star_count", "-pull_count", "-updated_at")[:EXPLORE_SIZE],
        "recent": public.order_by("-updated_at")[:EXPLORE_SIZE],
        "badge_links": _badge_links(request, badges),
    }
    if request.user.is_authenticated:
        user = request.user
        context["mine"] = visible.filter(
            Q(namespace__user=user) | Q(namespace__organization__membership__user=user)
        ).order_by("-updated_at")[:EXPLORE_SIZE]
        context["starred"] = (
            selectors.repository_list_starred(user=user, viewer=user)
            .select_related("namespace__organization")
            .order_by("-updated_at")[:EXPLORE_SIZE]
        )
    return render(request, "hub/explore.html", context)


def _org_members_url(namespace) -> str | None:
    try:
        return reverse("accounts:org-members", args=[namespace.name])
    except NoReverseMatch:
        return None


def _storage_context(namespace) -> dict:
    """Usage and quota, for the namespace's owners, members and administrators only: the
    sizes of private repositories are not for visitors."""
    from registry_api.services.quotas import quota_limit
    from registry_api.services.usage import namespace_usage_read

    usage = namespace_usage_read(namespace)
    limit = quota_limit(namespace)
    percent = min(100, round(usage.stored_bytes * 100 / limit)) if limit else None
    return {"usage": usage, "quota_limit": limit, "quota_percent": percent}


def profile(request, namespace):
    owner = selectors.namespace_get(name=namespace)
    if owner is None:
        raise Http404
    repositories = (
        selectors.repository_list_visible(user=request.user)
        .select_related("namespace__organization")
        .filter(namespace=owner)
        .order_by("-updated_at")
    )
    context = {
        "owner": owner,
        "repositories": repositories,
        "can_create": permissions.can_create(request.user, owner),
    }
    if permissions.can_view_usage(request.user, owner):
        context.update(_storage_context(owner))
    if owner.is_organization:
        context["members"] = membership_list_visible(viewer=request.user, namespace=owner)
        context["is_official_namespace"] = owner.name == OFFICIAL_NAMESPACE
        if permissions.can_manage_organization(request.user, owner):
            context["members_url"] = _org_members_url(owner)
            context["profile_url"] = reverse("accounts:org-profile", args=[owner.name])
    else:
        context["starred"] = (
            selectors.repository_list_starred(user=owner.user, viewer=request.user)
            .select_related("namespace__organization")
            .order_by("-updated_at")
        )
    return render(request, "hub/profile.html", context)


def page_not_found(request, exception=None):
    # API clients parse JSON: an unknown /api/v1/ path answers like DRF's own 404s.
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return render(request, "404.html", status=404)


def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)
