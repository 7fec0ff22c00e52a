"""Pages and REST API calls of a moved repository's old name redirect to its new one.

One middleware does it for every portal route that names a repository (`namespace` and
`name` in its URL kwargs: hub pages, the REST API, webhooks' pages and API), so no view knows
about old names: a view answers 404 for a name without a repository, and only then is the name
looked up as an old one. The redirect is given only to callers who may see the repository it
leads to; anyone else keeps the 404, exactly what an unknown name gives (a private
repository's new name never leaks).

Pages redirect GET and HEAD with 301 (a form posted to an old name is not re-sent elsewhere);
the API redirects every method with 308, which keeps the method and body, so a client that
follows it acts on the repository the name now belongs to, after authorizing there afresh.
"""

from __future__ import annotations

from django.http import HttpResponsePermanentRedirect
from django.http.response import HttpResponseRedirectBase
from django.urls import NoReverseMatch, reverse

from hub import permissions, selectors
from hub.authentication import request_scopes

API_PREFIX = "/api/"
REGISTRY_PREFIX = "/v2/"


class HttpResponsePermanentRedirectKeepMethod(HttpResponseRedirectBase):
    status_code = 308


def moved_location(request, match) -> str | None:
    """The URL this request would have at the repository's new name, if the caller may see
    it there; None when the name is no old name (or not one for this caller)."""
    namespace, name = match.kwargs["namespace"], match.kwargs["name"]
    if selectors.repository_get(namespace=namespace, name=name) is not None:
        return None  # the name is taken: its own pages answer, never an old redirect
    target = selectors.repository_redirect_target(namespace=namespace, name=name)
    if target is None or not permissions.can_view(request.user, target, request_scopes(request)):
        return None
    kwargs = {**match.kwargs, "namespace": target.namespace.name, "name": target.name}
    try:
        location = reverse(match.view_name, args=match.args, kwargs=kwargs)
    except NoReverseMatch:
        return None
    query = request.META.get("QUERY_STRING", "")
    return f"{location}?{query}" if query else location


class RepositoryMovedMiddleware:
    """After authentication: a 404 for an old repository name becomes a redirect."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code != 404 or request.path_info.startswith(REGISTRY_PREFIX):
            return response
        match = getattr(request, "resolver_match", None)
        if match is None or "namespace" not in match.kwargs or "name" not in match.kwargs:
            return response
        api = request.path_info.startswith(API_PREFIX)
        if not api and request.method not in ("GET", "HEAD"):
            return response
        location = moved_location(request, match)
        if location is None:
            return response
        if api:
            return HttpResponsePermanentRedirectKeepMethod(location)
        return HttpResponsePermanentRedirect(location)
