"""`docker search HOST/term`: GET /v1/search?q=&n=&page= in Docker Hub's v1 shape.

`is_official` marks the `library` namespace's repositories. The engine applies
`docker search --filter is-official=true` itself, on the page it fetched (it sends no filter),
so official images also rank first here for equal name matches (hub.search).

After `docker login` the engine sends a registry token (from its identity token) as Bearer;
curl sends Basic. Either shows the caller's own private repositories too; without
ANONYMOUS_READ one of them (or a session) is required, else 401 with the registry's challenge.
"""

from __future__ import annotations

import jwt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from hub import grant_versions
from hub.credentials import (
    MalformedCredentials,
    TooManyAttempts,
    access_token_lookup,
    basic_credentials,
)
from hub.permissions import anonymous_read_allowed
from hub.registry_tokens import token_verify
from hub.search import repository_search

DEFAULT_LIMIT = 25
MAX_LIMIT = 100


def _int(value: str | None, default: int, low: int, high: int) -> int:
    try:
        return max(low, min(high, int(value)))
    except (TypeError, ValueError):
        return default


class _Refused(Exception):
    pass


def _bearer_user(value: str):
    """The user of a registry token (docker's) or a personal access token; None if neither."""
    try:
        claims = token_verify(value)
    except jwt.InvalidTokenError:
        token = access_token_lookup(value)
        return token.user if token is not None else None
    subject = claims.get("sub") or ""
    if not subject:
        return AnonymousUser()  # an anonymous registry token: as if none was sent
    user = get_user_model().objects.filter(username=subject).first()
    principal = grant_versions.token_principal(claims, user) if user is not None else None
    return principal[0] if principal is not None else None


def _caller(request):
    """The user the Authorization header names, else the session's; _Refused for bad ones."""
    kind, _, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if not kind:
        return request.user
    if kind.lower() == "bearer":
        user = _bearer_user(value.strip())
    elif kind.lower() == "basic":
        try:
            credentials = basic_credentials(request, value)
        except MalformedCredentials:
            credentials = None
        user = credentials.user if credentials is not None else None
    else:
        user = None
    if user is None:
        raise _Refused
    return user


def _refusal(request, message: str, *, throttled: bool = False) -> JsonResponse:
    code, status = ("TOOMANYREQUESTS", 429) if throttled else ("UNAUTHORIZED", 401)
    response = JsonResponse({"errors": [{"code": code, "message": message}]}, status=status)
    if not throttled:
        realm = request.build_absolute_uri("/auth/token")
        response["WWW-Authenticate"] = (
            f'Bearer realm="{realm}",service="{settings.REGISTRY_SERVICE}"'
        )
    else:
        response["Retry-After"] = "60"
    return response


@require_GET
def docker_search(request):
    try:
        user = _caller(request)
    except _Refused:
        return _refusal(request, "invalid credentials")
    except TooManyAttempts:
        return _refusal(request, "too many failed sign-ins; wait a minute", throttled=True)
    if not anonymous_read_allowed(user):
        return _refusal(request, "authentication required")
    query = request.GET.get("q", "")[:200]
    limit = _int(request.GET.get("n"), DEFAULT_LIMIT, 1, MAX_LIMIT)
    page = _int(request.GET.get("page"), 1, 1, 10_000)
    results = repository_search(user=user, query=query)
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
                    "is_official": repository.is_official,
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
