"""One middleware stack for every request (settings.MIDDLEWARE, in tests as in production), in
which registry requests (/v2/) take a lean path: they resolve against the registry's routes only
(config.urls_registry) and pass the portal's own middleware straight by. Docker clients need no
sessions, locale, CSRF, messages or htmx, and manifest GETs are the hottest requests served."""

from __future__ import annotations

from django.utils.module_loading import import_string

REGISTRY_PREFIX = "/v2/"


def is_registry(request) -> bool:
    return request.path_info.startswith(REGISTRY_PREFIX)


class RegistryUrlconfMiddleware:
    """Resolve /v2/ requests against the registry's routes only, not the whole portal's."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if is_registry(request):
            request.urlconf = "config.urls_registry"
        return self.get_response(request)


def portal_only(dotted_path: str) -> type:
    """The middleware at `dotted_path`, doing nothing for /v2/ requests."""
    middleware = import_string(dotted_path)

    def __call__(self, request):
        if is_registry(request):
            return self.get_response(request)
        return middleware.__call__(self, request)

    hooks = {"__call__": __call__, "async_capable": False, "__module__": __name__}
    if hasattr(middleware, "process_view"):

        def process_view(self, request, *args):
            return None if is_registry(request) else middleware.process_view(self, request, *args)

        hooks["process_view"] = process_view
    if hasattr(middleware, "process_exception"):

        def process_exception(self, request, exception):
            if is_registry(request):
                return None
            return middleware.process_exception(self, request, exception)

        hooks["process_exception"] = process_exception
    if hasattr(middleware, "process_template_response"):

        def process_template_response(self, request, response):
            if is_registry(request):
                return response
            return middleware.process_template_response(self, request, response)

        hooks["process_template_response"] = process_template_response
    return type(f"PortalOnly{middleware.__name__}", (middleware,), hooks)


CSPMiddleware = portal_only("csp.middleware.CSPMiddleware")
WhiteNoiseMiddleware = portal_only("whitenoise.middleware.WhiteNoiseMiddleware")
SessionMiddleware = portal_only("django.contrib.sessions.middleware.SessionMiddleware")
LocaleMiddleware = portal_only("django.middleware.locale.LocaleMiddleware")
CommonMiddleware = portal_only("django.middleware.common.CommonMiddleware")
CsrfViewMiddleware = portal_only("django.middleware.csrf.CsrfViewMiddleware")
AuthenticationMiddleware = portal_only("django.contrib.auth.middleware.AuthenticationMiddleware")
MessageMiddleware = portal_only("django.contrib.messages.middleware.MessageMiddleware")
XFrameOptionsMiddleware = portal_only("django.middleware.clickjacking.XFrameOptionsMiddleware")
HtmxMiddleware = portal_only("django_htmx.middleware.HtmxMiddleware")
SignInRequiredMiddleware = portal_only("config.sign_in_required.SignInRequiredMiddleware")
