from django.conf import settings


def site(request) -> dict:
    """Expose the registry host (for pull commands) to every template."""
    return {
        "registry_host": request.get_host(),
        # Not `site_name`: Django's auth views put the request's host under that name.
        "portal_name": settings.SITE_NAME,
        "settings_debug": settings.DEBUG,
        # Sign-up links are shown only where anyone may sign up (SIGNUP=open).
        "signup_open": settings.SIGNUP == "open",
        # "Sign in with <provider>" on the sign-in page when OpenID Connect is configured.
        "oidc_provider_name": settings.OIDC_PROVIDER_NAME if settings.OIDC_ENABLED else "",
    }
