"""OpenID Connect sign-in settings (issue 17), on when OIDC_ISSUER and OIDC_CLIENT_ID are set.

Only Dockyard's own names live here; mozilla-django-oidc's (OIDC_RP_*, OIDC_OP_*) are answered
from these and the issuer's discovery document by hub.oidc_discovery.oidc_setting.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from config.env import env_str
from config.group_map import group_map_from_env

OIDC_BACKEND = "hub.oidc_backend.OIDCBackend"


def oidc_settings(backends: list[str]) -> dict:
    issuer = env_str("OIDC_ISSUER", "").strip().rstrip("/")
    client_id = env_str("OIDC_CLIENT_ID", "").strip()
    out: dict = {
        "OIDC_ENABLED": bool(issuer and client_id),
        # Read when the URLconf is imported, so set even while OIDC is off (the views 404 then).
        "OIDC_CALLBACK_CLASS": "hub.oidc_views.CallbackView",
        "OIDC_AUTHENTICATE_CLASS": "hub.oidc_views.AuthenticateView",
    }
    if not out["OIDC_ENABLED"]:
        if issuer or client_id:
            raise ImproperlyConfigured("OIDC_ISSUER and OIDC_CLIENT_ID must be set together")
        return out
    if urlsplit(issuer).scheme not in ("http", "https"):
        raise ImproperlyConfigured(f"OIDC_ISSUER {issuer!r} is not an http(s) URL")
    ca_file = env_str("OIDC_CA_FILE", "")
    out.update(
        OIDC_ISSUER=issuer,
        OIDC_CLIENT_ID=client_id,
        OIDC_CLIENT_SECRET=env_str("OIDC_CLIENT_SECRET", ""),
        OIDC_SCOPES=env_str("OIDC_SCOPES", "openid email profile"),
        OIDC_USERNAME_CLAIM=env_str("OIDC_USERNAME_CLAIM", "preferred_username"),
        OIDC_GROUPS_CLAIM=env_str("OIDC_GROUPS_CLAIM", "groups"),
        OIDC_GROUP_MAP=group_map_from_env("OIDC_GROUP_MAP"),
        OIDC_PROVIDER_NAME=env_str("OIDC_PROVIDER_NAME", "") or urlsplit(issuer).hostname,
        OIDC_RP_SIGN_ALGO=env_str("OIDC_SIGN_ALGORITHM", "RS256"),
        # requests' `verify`: a CA bundle for a provider behind a private CA, else the system's.
        OIDC_VERIFY_SSL=ca_file or True,
        OIDC_TIMEOUT=10,
        OIDC_USE_PKCE=True,
        OIDC_PKCE_CODE_CHALLENGE_METHOD="S256",
        OIDC_STORE_ID_TOKEN=True,  # the id_token_hint of RP-initiated logout
        AUTHENTICATION_BACKENDS=[*backends, OIDC_BACKEND],
    )
    return out
