"""The public address of this Dockyard, for links that leave the request (e-mails)."""

from __future__ import annotations

from django.conf import settings


def site_url() -> str:
    """SITE_URL, or what the server is configured to serve: never the request's Host header,
    which a client chooses (a reset link on an attacker's host would leak the token)."""
    return settings.SITE_URL or settings.SITE_URL_DEFAULT
