"""The repository page and per-tag pages."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render

from hub import permissions, selectors
from hub.forms_repository import CommentForm
from hub.models import Repository, Star
from registry_api import selectors_ui

TAGS_ON_PAGE = 100


def repository_for_view(request, namespace: str, name: str) -> Repository:
    """Return the repository if the caller may view it; otherwise 404, exactly as if absent."""
    repository = selectors.repository_get(namespace=namespace, name=name)
    if repository is None or not permissions.can_view(request.user, repository):
        raise Http404
    return repository


def repository_context(request, repository: Repository) -> dict:
    """What the repository header needs: permissions and the viewer's star."""
    user = request.user
    return {
        "repository": repository,
        "can_admin": permissions.can_admin(user, repository),
        "can_push": permissions.can_push(user, repository),
        "starred": user.is_authenticated
        and Star.objects.filter(repository=repository, user=user).exists(),
    }


def repository_detail(request, namespace, name):
    repository = repository_for_view(request, namespace, name)
    context = repository_context(request, repository)
    context.update(
        tags=selectors_ui.tag_list_ui(repository=repository, limit=TAGS_ON_PAGE),
        comments=selectors.comment_list(repository=repository),
        comment_form=CommentForm(),
    )
    return render(request, "hub/repository_detail.html", context)


def tag_detail(request, namespace, name, tag):
    repository = repository_for_view(request, namespace, name)
    found = selectors_ui.tag_get(repository=repository, name=tag)
    if found is None:
        raise Http404
    context = repository_context(request, repository)
    context["detail"] = selectors_ui.tag_detail(
        tag=found, platform_digest=request.GET.get("platform", "")
    )
    return render(request, "hub/tag_detail.html", context)
