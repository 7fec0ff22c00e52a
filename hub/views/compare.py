"""The comparison page: two tags or digests of a repository side by side."""

from __future__ import annotations

from django.shortcuts import render

from hub.views.repositories import repository_context, repository_for_view
from registry_api.selectors.compare import MAX_REFERENCE_LENGTH, ComparisonInvalid, image_compare
from registry_api.selectors.tags import tag_list
from scanning.selectors import manifest_packages

# The pickers offer the most recently pushed tags; any other tag or a digest can be typed.
PICKER_TAGS = 200


def repository_compare(request, namespace, name):
    repository = repository_for_view(request, namespace, name)
    chosen = {
        field: request.GET.get(field, "").strip()[: MAX_REFERENCE_LENGTH + 1]
        for field in ("from", "to", "platform")
    }
    comparison, problems = None, {}
    if chosen["from"] and chosen["to"]:
        try:
            comparison = image_compare(
                repository=repository,
                packages=manifest_packages,
                from_ref=chosen["from"],
                to_ref=chosen["to"],
                platform=chosen["platform"],
            )
        except ComparisonInvalid as exc:
            problems = exc.errors
    context = repository_context(request, repository)
    context.update(
        chosen=chosen,
        comparison=comparison,
        problems=problems,
        tag_names=tag_list(repository=repository).values_list("name", flat=True)[:PICKER_TAGS],
    )
    return render(request, "hub/compare.html", context, status=400 if problems else 200)
