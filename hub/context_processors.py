from django.conf import settings


def site(request) -> dict:
    """Expose the registry host (for pull commands) to every template."""
    return {
        "registry_host": request.get_host(),
        "site_name": "Dockyard",
        "settings_debug": settings.DEBUG,
        # Sign-up links are shown only where anyone may sign up (SIGNUP=open).
        "signup_open": settings.SIGNUP == "open",
    }
