"""The OpenID provider's discovery document, fetched lazily and cached, and the settings that
mozilla-django-oidc asks for, answered from it and from Dockyard's OIDC_* names."""

from __future__ import annotations

import hashlib

import requests
from django.conf import settings
from django.core.cache import cache
from mozilla_django_oidc.utils import import_from_settings

CACHE_SECONDS = 3600


class ProviderUnavailable(Exception):
    """The discovery document could not be fetched or does not name this issuer."""


def discovery() -> dict:
    issuer = settings.OIDC_ISSUER
    key = "oidc-discovery:" + hashlib.sha256(issuer.encode()).hexdigest()[:32]
    document = cache.get(key)
    if document is not None:
        return document
    url = issuer + "/.well-known/openid-configuration"
    try:
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT, verify=settings.OIDC_VERIFY_SSL)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(f"{url}: {exc}") from exc
    # A document that names another issuer is not this provider's (OpenID Discovery 4.3).
    if not isinstance(document, dict) or str(document.get("issuer", "")).rstrip("/") != issuer:
        raise ProviderUnavailable(f"{url} names issuer {document.get('issuer')!r}, not {issuer!r}")
    cache.set(key, document, timeout=CACHE_SECONDS)
    return document


_FROM_DISCOVERY = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}
_OURS = {
    "OIDC_RP_CLIENT_ID": "OIDC_CLIENT_ID",
    "OIDC_RP_CLIENT_SECRET": "OIDC_CLIENT_SECRET",
    "OIDC_RP_SCOPES": "OIDC_SCOPES",
}


def oidc_setting(attr: str, *default):
    """mozilla-django-oidc's get_settings(): endpoints from discovery, names from ours."""
    if attr in _FROM_DISCOVERY:
        value = discovery().get(_FROM_DISCOVERY[attr])
        if not value:
            raise ProviderUnavailable(f"the discovery document has no {_FROM_DISCOVERY[attr]}")
        return value
    if attr in _OURS:
        return getattr(settings, _OURS[attr])
    return import_from_settings(attr, *default)


def end_session_url(id_token: str, post_logout_redirect_uri: str) -> str:
    """RP-initiated logout at the provider, or "" when it offers none (or cannot be reached)."""
    from urllib.parse import urlencode

    try:
        endpoint = discovery().get("end_session_endpoint")
    except ProviderUnavailable:
        return ""
    if not endpoint:
        return ""
    query = urlencode(
        {
            "id_token_hint": id_token,
            "client_id": settings.OIDC_CLIENT_ID,
            "post_logout_redirect_uri": post_logout_redirect_uri,
        }
    )
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"
