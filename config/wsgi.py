"""WSGI entry point. Registry traffic (/v2/) takes a lean path: no sessions, locale, CSRF or
messages middleware and a route table of its own, since docker clients need none of them and
manifest GETs are the hottest requests the server answers."""

import os

from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

REGISTRY_PREFIX = "/v2/"
REGISTRY_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.registry_middleware.RegistryUrlconfMiddleware",
]


class RegistryWSGIHandler(WSGIHandler):
    def load_middleware(self, is_async=False):
        from django.conf import settings

        # Django builds the chain from settings.MIDDLEWARE; swap it only while this handler
        # loads (at import, before any request is served).
        saved, settings.MIDDLEWARE = settings.MIDDLEWARE, REGISTRY_MIDDLEWARE
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = saved


registry_application = RegistryWSGIHandler()
portal_application = application


def application(environ, start_response):  # noqa: F811 - the dispatcher gunicorn serves
    if environ.get("PATH_INFO", "").startswith(REGISTRY_PREFIX):
        return registry_application(environ, start_response)
    return portal_application(environ, start_response)
