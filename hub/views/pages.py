"""HTML views of the index: thin, each parses, calls a selector or service, renders."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render

from hub import permissions, selectors


def explore(request):
    visible = selectors.repository_list_visible(user=request.user)
    context = {
        "popular": visible.filter(is_private=False).order_by("-star_count", "-pull_count")[:12],
        "recent": visible.filter(is_private=False).order_by("-updated_at")[:12],
    }
    return render(request, "hub/explore.html", context)


def profile(request, namespace):
    owner = selectors.namespace_get(name=namespace)
    if owner is None:
        raise Http404
    repositories = selectors.repository_list_visible(user=request.user).filter(namespace=owner)
    return render(request, "hub/profile.html", {"owner": owner, "repositories": repositories})


def repository_detail(request, namespace, name):
    repository = selectors.repository_get(namespace=namespace, name=name)
    if repository is None or not permissions.can_view(request.user, repository):
        raise Http404
    return render(request, "hub/repository_detail.html", {"repository": repository})


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)
