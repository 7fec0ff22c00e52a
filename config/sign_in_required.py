"""Without ANONYMOUS_READ (the private profile) the portal has no anonymous pages: one middleware
sends every anonymous visitor to sign in, so no view can forget to.

It runs after AuthenticationMiddleware, for portal requests only (config.registry_middleware
wraps it; /v2/ answers its own 401 challenge). Left open: what signing in (or getting an account
or a new password) needs, and the endpoints that authenticate on their own and answer 401 —
the REST API (DRF, hub.api_permissions), `docker search` (/v1/), the token service.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login

OPEN_PREFIXES = (
    "/-/",  # health checks (config.health): probes carry no session
    "/metrics",  # Prometheus (config.metrics): its own token, or loopback only
    "/accounts/login/",
    "/oidc/",  # OpenID Connect sign-in (hub.oidc_views): the way in, like the page above
    "/accounts/signup/",
    "/accounts/invite/",
    "/accounts/password_reset/",
    "/accounts/reset/",
    "/admin/",  # the admin site sends visitors to its own sign-in page
    "/i18n/",
    "/auth/token",
    "/.well-known/",
    "/v1/",
    "/api/",
)
# Under /api/ but an HTML page: sent to sign in like the rest of the portal.
SIGN_IN_PREFIXES = ("/api/v1/docs/",)


def _open(path: str) -> bool:
    if path.startswith(SIGN_IN_PREFIXES):
        return False
    return path.startswith(OPEN_PREFIXES) or path.startswith("/" + settings.STATIC_URL.lstrip("/"))


class SignInRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            not settings.ANONYMOUS_READ
            and not request.user.is_authenticated
            and not _open(request.path_info)
        ):
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        return self.get_response(request)
