"""HTML views of the index: explore, profiles and the error pages."""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from hub import permissions, selectors
from hub.selectors_accounts import membership_list_visible

EXPLORE_SIZE = 12


def explore(request):
    visible = selectors.repository_list_visible(user=request.user)
    public = visible.filter(is_private=False)
    context = {
        "popular": public.order_by("-star_count", "-pull_count", "-updated_at")[:EXPLORE_SIZE],
        "recent": public.order_by("-updated_at")[:EXPLORE_SIZE],
    }
    if request.user.is_authenticated:
        user = request.user
        context["mine"] = visible.filter(
            Q(namespace__user=user) | Q(namespace__organization__membership__user=user)
        ).order_by("-updated_at")[:EXPLORE_SIZE]
        context["starred"] = selectors.repository_list_starred(user=user, viewer=user).order_by(
            "-updated_at"
        )[:EXPLORE_SIZE]
    return render(request, "hub/explore.html", context)


def _org_members_url(namespace) -> str | None:
    try:
        return reverse("accounts:org-members", args=[namespace.name])
    except NoReverseMatch:
        return None


def profile(request, namespace):
    owner = selectors.namespace_get(name=namespace)
    if owner is None:
        raise Http404
    repositories = (
        selectors.repository_list_visible(user=request.user)
        .filter(namespace=owner)
        .order_by("-updated_at")
    )
    context = {
        "owner": owner,
        "repositories": repositories,
        "can_create": permissions.can_create(request.user, owner),
    }
    if owner.is_organization:
        context["members"] = membership_list_visible(viewer=request.user, namespace=owner)
        if permissions.can_manage_organization(request.user, owner):
            context["members_url"] = _org_members_url(owner)
    else:
        context["starred"] = selectors.repository_list_starred(
            user=owner.user, viewer=request.user
        ).order_by("-updated_at")
    return render(request, "hub/profile.html", context)


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)
