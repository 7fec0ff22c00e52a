"""A tag's history page (also for a deleted tag), the deleted tags of a repository, and the
Restore button both show to those who may push."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from hub import permissions
from hub.views.repositories import repository_context, repository_for_view
from registry_api.selectors import tag_history as history
from registry_api.selectors.tags import tag_get
from registry_api.service_errors import ServiceError
from registry_api.services.restore import tag_restore as restore

EVENTS_PER_PAGE = 50
ACTION_LABELS = {
    "push": gettext_lazy("pushed"),
    "delete": gettext_lazy("deleted"),
    "retention": gettext_lazy("deleted by a retention policy"),
    "restore": gettext_lazy("restored"),
    "import": gettext_lazy("imported"),
    "cache": gettext_lazy("cached from the upstream"),
}


def _labelled(rows: list[dict]) -> list[dict]:
    for row in rows:
        row["label"] = ACTION_LABELS.get(row["event"].action, row["event"].action)
    return rows


def _history_url(repository, tag: str) -> str:
    return reverse("hub:tag-history", args=[repository.namespace.name, repository.name, tag])


def tag_history(request, namespace, name, tag):
    repository = repository_for_view(request, namespace, name)
    events = history.tag_history(repository=repository, tag=tag)
    current = tag_get(repository=repository, name=tag)
    if current is None and not events.exists():
        raise Http404
    page = Paginator(events, EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    context = repository_context(request, repository)
    context.update(
        tag_name=tag,
        current=current,
        page=page,
        rows=_labelled(history.history_rows(repository=repository, tag=tag, events=page)),
    )
    return render(request, "hub/tag_history.html", context)


def tags_deleted(request, namespace, name):
    repository = repository_for_view(request, namespace, name)
    page = Paginator(history.tags_deleted(repository=repository), EVENTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = repository_context(request, repository)
    context.update(
        page=page,
        rows=_labelled(history.deleted_rows(repository=repository, events=page)),
    )
    return render(request, "hub/tag_history_deleted.html", context)


@login_required
@require_POST
def tag_restore(request, namespace, name, tag):
    """Restore the tag to the posted digest; refusals come back as a message on the history."""
    repository = repository_for_view(request, namespace, name)
    if not permissions.can_push(request.user, repository):
        raise Http404
    digest = request.POST.get("digest", "").strip()[:200]
    try:
        restore(repository=repository, tag=tag, digest=digest, actor=request.user, request=request)
    except ServiceError as refused:
        messages.error(request, refused.message)
        return redirect(_history_url(repository, tag))
    messages.success(
        request, _("Tag %(tag)s restored to %(digest)s.") % {"tag": tag, "digest": digest}
    )
    return redirect("hub:tag-detail", repository.namespace.name, repository.name, tag)
