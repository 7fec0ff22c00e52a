"""REST API authentication: `Authorization: Bearer <access token>` and Basic (password or token)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from hub.credentials import (
    MalformedCredentials,
    TooManyAttempts,
    access_token_lookup,
    basic_credentials,
)


class AccessTokenAuthentication(authentication.BaseAuthentication):
    """Bearer access tokens; `request.auth` is the AccessToken so views can read its scopes."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode(errors="replace")
        if not header.startswith(self.keyword + " "):
            return None
        token = access_token_lookup(header[len(self.keyword) + 1 :].strip())
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked access token.")
        return token.user, token

    def authenticate_header(self, request) -> str:
        return self.keyword


class BasicAuthentication(authentication.BaseAuthentication):
    """HTTP Basic with a password or an access token; failures are throttled like sign-ins."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request)
        if not header.startswith(b"Basic "):
            return None
        try:
            creds = basic_credentials(request, header[6:].decode(errors="replace"))
        except MalformedCredentials as exc:
            raise exceptions.AuthenticationFailed("Malformed Basic credentials.") from exc
        except TooManyAttempts as exc:
            raise exceptions.Throttled(detail="Too many failed sign-ins; wait a minute.") from exc
        if creds is None:
            raise exceptions.AuthenticationFailed("Invalid username or password.")
        return creds.user, creds.token

    def authenticate_header(self, request) -> str:
        return 'Basic realm="dockyard"'


def request_scopes(request) -> tuple[str, ...] | None:
    """Return the access-token scopes of an API request, or None for password/session auth."""
    token = getattr(request, "auth", None)
    return tuple(token.scopes) if token is not None and hasattr(token, "scopes") else None


class AccessTokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """Document Bearer access tokens in the OpenAPI schema."""

    target_class = AccessTokenAuthentication
    name = "accessToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "A personal access token."}


class BasicAuthenticationScheme(OpenApiAuthenticationExtension):
    """Document Basic auth (password or access token) in the OpenAPI schema."""

    target_class = BasicAuthentication
    name = "basicAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "basic", "description": "Password or access token."}
