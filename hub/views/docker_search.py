"""`docker search HOST/term`: GET /v1/search?q=&n=&page= in Docker Hub's v1 shape."""

from __future__ import annotations

from django.http import JsonResponse
from django.views.decorators.http import require_GET

from hub.search import repository_search

DEFAULT_LIMIT = 25
MAX_LIMIT = 100


def _int(value: str | None, default: int, low: int, high: int) -> int:
    try:
        return max(low, min(high, int(value)))
    except (TypeError, ValueError):
        return default


@require_GET
def docker_search(request):
    query = request.GET.get("q", "")[:200]
    limit = _int(request.GET.get("n"), DEFAULT_LIMIT, 1, MAX_LIMIT)
    page = _int(request.GET.get("page"), 1, 1, 10_000)
    results = repository_search(user=request.user, query=query)
    total = results.count()
    window = results[(page - 1) * limit : page * limit]
    return JsonResponse(
        {
            "num_results": total,
            "num_pages": max(1, -(-total // limit)),
            "page": page,
            "page_size": limit,
            "query": query,
            "results": [
                {
                    # As Docker Hub answers: `centos` for `library/centos`.
                    "name": repository.display_name,
                    "description": repository.description,
                    "star_count": repository.star_count,
                    "pull_count": repository.pull_count,
                    "is_official": False,
                    "is_automated": False,
                    "is_trusted": False,
                }
                for repository in window
            ],
        }
    )


@require_GET
def ping(request):
    """`docker search` pings the v1 index first; say we are a standalone index."""
    response = JsonResponse({"standalone": True})
    response["X-Docker-Registry-Standalone"] = "true"
    return response
