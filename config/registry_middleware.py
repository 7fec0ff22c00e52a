"""Middleware of the lean /v2/ request path (see config/wsgi.py)."""


class RegistryUrlconfMiddleware:
    """Resolve /v2/ requests against the registry's routes only, not the whole portal's."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.urlconf = "config.urls_registry"
        return self.get_response(request)
