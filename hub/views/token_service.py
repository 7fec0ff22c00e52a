"""The registry token service and its public key set.

Implements the Docker registry token specification (distribution/distribution,
docs/spec/auth/token.md and oauth.md).

GET /auth/token: optional Basic credentials (password or access token), `service`, repeated
`scope`, `account`, `client_id`, `offline_token=true`. POST /auth/token: the OAuth2 form variant
(`grant_type=password|refresh_token`). Grants the intersection of asked and allowed.
"""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from hub import grant_versions
from hub.audit import audit_record
from hub.credentials import (
    Credentials,
    MalformedCredentials,
    TooManyAttempts,
    basic_credentials,
    client_ip,
    credentials_check,
)
from hub.refresh_tokens import refresh_token_check, refresh_token_issue
from hub.registry_tokens import jwks, token_issue
from hub.token_scopes import access_grant, scopes_parse

BASIC_CHALLENGE = 'Basic realm="dockyard"'


class _Refused(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _error(exc: _Refused) -> JsonResponse:
    # `details` is what docker prints for a failed login; `errors` is the registry error shape.
    body = {
        "errors": [{"code": exc.code, "message": exc.message, "detail": None}],
        "details": exc.message,
    }
    response = JsonResponse(body, status=exc.status)
    if exc.status == 401:
        response["WWW-Authenticate"] = BASIC_CHALLENGE
    return response


def _checked(check) -> Credentials:
    """Run a credentials check; the token service's error for each way it can fail."""
    try:
        credentials = check()
    except MalformedCredentials as exc:
        raise _Refused(401, "UNAUTHORIZED", "Malformed Basic credentials.") from exc
    except TooManyAttempts as exc:
        raise _Refused(
            429, "TOOMANYREQUESTS", "Too many failed sign-ins; wait a minute and try again."
        ) from exc
    if credentials is None:
        raise _Refused(401, "UNAUTHORIZED", "Incorrect username or password.")
    return credentials


def _basic_checked(request) -> Credentials | None:
    """The caller of `Authorization: Basic`, None when the request sent no Basic credentials."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header[:6].lower() != "basic ":
        return None
    return _checked(lambda: basic_credentials(request, header[6:]))


def _password_checked(request, username: str, password: str) -> Credentials:
    return _checked(
        lambda: credentials_check(
            username=username, secret=password, client_ip=client_ip(request), request=request
        )
    )


# One request asks for what one docker command needs (a push with mounts names a few repos);
# past these a request is an amplification attempt (every scope costs queries and token bytes).
MAX_SCOPES = 64
MAX_REQUEST_BYTES = 32 * 1024  # query string or form body


def _check_size(request) -> None:
    try:
        body = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        body = MAX_REQUEST_BYTES + 1
    if max(len(request.META.get("QUERY_STRING", "")), body) > MAX_REQUEST_BYTES:
        raise _Refused(400, "DENIED", f"The request is larger than {MAX_REQUEST_BYTES} bytes.")


def _scope_values_checked(values: list[str]) -> list[str]:
    if sum(len(value.split()) for value in values) > MAX_SCOPES:
        raise _Refused(400, "DENIED", f"At most {MAX_SCOPES} scopes per token request.")
    return values


def _check_service(service: str) -> None:
    # Clients echo the service from the registry's challenge; a missing one is accepted.
    if service and service != settings.REGISTRY_SERVICE:
        raise _Refused(400, "DENIED", f"Unknown service {service!r}.")


def _grant_response(
    credentials: Credentials | None, scope_values: list[str], *, refresh: bool, oauth: bool
) -> JsonResponse:
    user = credentials.user if credentials else None
    token_scopes = credentials.scopes if credentials else None
    access = access_grant(user, scopes_parse(scope_values), token_scopes)
    subject = user.get_username() if user is not None else ""
    _login_audit(credentials)
    token, issued_at = token_issue(
        subject=subject,
        audience=settings.REGISTRY_SERVICE,
        access=access,
        extra={grant_versions.CLAIM: grant_versions.stamp(credentials, access)},
    )
    body = {
        "token": token,
        "access_token": token,
        "expires_in": settings.TOKEN_EXPIRES_IN,
        "issued_at": issued_at.isoformat().replace("+00:00", "Z"),
    }
    if oauth:
        body["scope"] = " ".join(
            f"{entry['type']}:{entry['name']}:{','.join(entry['actions'])}"
            for entry in access
            if entry["actions"]
        )
    if refresh and credentials is not None:
        body["refresh_token"] = refresh_token_issue(credentials)
    return JsonResponse(body)


def _login_audit(credentials: Credentials | None) -> None:
    # One entry per token issued for credentials (docker login, each docker command), not one
    # per registry request: registry requests carry the token, not the password.
    if credentials is not None:
        audit_record(
            action="login",
            actor=credentials.user,
            target=credentials.user.username,
            namespace=credentials.user.username,
            data={"via": "token", "method": "token" if credentials.token else "password"},
        )


@never_cache
@require_http_methods(["GET", "POST"])
@csrf_exempt
def token(request):
    try:
        _check_size(request)
        if request.method == "POST":
            return _token_post(request)
        return _token_get(request)
    except _Refused as exc:
        return _error(exc)


def _token_get(request) -> JsonResponse:
    _check_service(request.GET.get("service", ""))
    credentials = _basic_checked(request)
    return _grant_response(
        credentials,
        _scope_values_checked(request.GET.getlist("scope")),
        refresh=request.GET.get("offline_token", "").lower() == "true",
        oauth=False,
    )


def _token_post(request) -> JsonResponse:
    form = request.POST
    _check_service(form.get("service", ""))
    grant_type = form.get("grant_type", "")
    if grant_type == "password":
        credentials = _password_checked(request, form.get("username", ""), form.get("password", ""))
    elif grant_type == "refresh_token":
        credentials = refresh_token_check(form.get("refresh_token", ""))
        if credentials is None:
            raise _Refused(401, "UNAUTHORIZED", "Invalid or expired refresh token.")
    else:
        raise _Refused(400, "UNSUPPORTED", "grant_type must be password or refresh_token.")
    return _grant_response(
        credentials,
        _scope_values_checked(form.getlist("scope")),
        refresh=form.get("access_type", "") == "offline",
        oauth=True,
    )


@require_GET
def jwks_view(request):
    return JsonResponse(jwks())
