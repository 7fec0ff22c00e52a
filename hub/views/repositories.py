"""The repository page and per-tag pages."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from hub import permissions, selectors
from hub.forms_repository import CommentForm
from hub.models import Repository, Star
from hub.views import tag_rows
from registry_api.blob_responses import stored_blob_response
from registry_api.errors import RegistryError
from registry_api.selectors.blobs import blob_linked
from registry_api.selectors.signatures import tag_referrers_section
from registry_api.selectors.tag_ordering import DEFAULT_TAG_ORDERING, TAG_ORDERINGS, tags_ordered
from registry_api.selectors.tags import tag_get, tag_list
from registry_api.services.usage import repository_usage_read

TAGS_PER_PAGE = 25
COMMENTS_PER_PAGE = 20


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


TAG_ORDERING_LABELS = [
    ("-last_pushed", _("Newest")),
    ("last_pushed", _("Oldest")),
    ("-name", _("Name, highest first")),
    ("name", _("Name, lowest first")),
    ("-size", _("Largest")),
    ("size", _("Smallest")),
]


def _comment_page(repository: Repository, number: str | None):
    """One page of comments, oldest first; without a page number the newest page."""
    paginator = Paginator(selectors.comment_list(repository=repository), COMMENTS_PER_PAGE)
    return paginator.get_page(number or paginator.num_pages)


def repository_detail(request, namespace, name):
    repository = repository_for_view(request, namespace, name)
    tag_filter = request.GET.get("tag", "").strip()[:128]
    tags = tag_list(repository=repository)
    if tag_filter:
        tags = tags.filter(name__icontains=tag_filter)
    ordering = request.GET.get("ordering", "")
    if ordering not in TAG_ORDERINGS:
        ordering = DEFAULT_TAG_ORDERING
    tags = tags_ordered(tags, ordering)
    page = Paginator(tags, TAGS_PER_PAGE).get_page(request.GET.get("page"))
    context = repository_context(request, repository)
    context.update(
        tags=[tag_rows.tag_row(tag) for tag in page.object_list],
        tag_page=page,
        tag_filter=tag_filter,
        tag_ordering=ordering,
        # Pagination links keep the filter and the order.
        tag_query=urlencode({k: v for k, v in (("tag", tag_filter), ("ordering", ordering)) if v}),
        tag_orderings=TAG_ORDERING_LABELS,
        comment_page=_comment_page(repository, request.GET.get("comments")),
        comment_form=CommentForm(),
        # Whoever may see the repository sees its sizes (registry_api.selectors.usage).
        usage=repository_usage_read(repository),
    )
    return render(request, "hub/repository_detail.html", context)


def tag_detail(request, namespace, name, tag):
    repository = repository_for_view(request, namespace, name)
    found = tag_get(repository=repository, name=tag)
    if found is None:
        raise Http404
    context = repository_context(request, repository)
    context["detail"] = tag_rows.tag_detail(
        tag=found, platform_digest=request.GET.get("platform", "")
    )
    context["referrers"] = tag_referrers_section(manifest=found.manifest)
    return render(request, "hub/tag_detail.html", context)


def referrer_blob(request, namespace, name, digest):
    """Download an artifact's blob, for whoever may pull the repository (404 otherwise)."""
    repository = repository_for_view(request, namespace, name)
    blob = blob_linked(repository=repository, digest=digest)
    if blob is None:
        raise Http404
    try:
        response = stored_blob_response(request, blob)
    except RegistryError as error:
        raise Http404 from error
    response["Content-Disposition"] = f'attachment; filename="{digest.replace(":", "-")}"'
    return response
