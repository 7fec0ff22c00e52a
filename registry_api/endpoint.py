"""The one decorator every /v2/ view wears: authentication, authorization and error rendering.

A request authenticates with the index's Bearer token (the normal docker flow) or with Basic
credentials sent straight to /v2/ (password or access token, as registry:2 with htpasswd allows).
With neither, the answer is the 401 challenge that sends the client to /auth/token.

What a caller may do comes from hub.permissions (the one decision); a Bearer token's grants
are held against it, and for writes and private repositories checked to still hold
(hub.grant_versions). A token lacking a scope its subject may hold is challenged for it.

A private repository the caller may not pull is treated exactly like an absent one: both answer
401 UNAUTHORIZED with the same challenge, so the status and body never tell them apart. A push a
signed-in caller may not make answers 403 DENIED at once (docker gives up instead of retrying),
naming where they may push; again the same for a private repository and an absent name.

Names are resolved first: `centos` is `library/centos` (registry_api.names). Decisions use the
canonical name, answers (Location, Link, challenges, tags list) the name the client wrote.
A containerd mirror request (`?ns=<upstream host>`) names an upstream's repository: it is first
turned into the name of the cache serving that upstream (registry_api.proxy.upstreams), which
decisions and answers then use as if the client had written it.

An old name of a moved repository is resolved here too, and only here (registry_api.redirects):
pulls reach the repository for callers who may pull it, decided from the database each time.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.utils.functional import SimpleLazyObject
from django.views.decorators.csrf import csrf_exempt

from hub import grant_versions, permissions
from hub.credentials import MalformedCredentials, TooManyAttempts, basic_credentials
from hub.models import Namespace, Repository
from hub.names import REPOSITORY_PATH_RE
from hub.registry_tokens import token_actions, token_verify
from hub.selectors import namespace_get, repository_get
from registry_api import lookups
from registry_api.errors import (
    Denied,
    NameInvalid,
    NameUnknown,
    RegistryError,
    TooManyRequests,
    Unauthorized,
    Unsupported,
    registry_error,
)
from registry_api.names import repository_resolve
from registry_api.redirects import moved_headers, moved_message
from registry_api.selectors.repositories import redirect_lookup, repository_lookup
from registry_api.service_errors import ServiceError

API_VERSION_HEADER = ("Docker-Distribution-API-Version", "registry/2.0")


@dataclass
class RegistryContext:
    """Who is calling and what they may do on the repository the URL names."""

    user: Any = field(default_factory=AnonymousUser)
    claims: dict | None = None
    scopes: tuple[str, ...] | None = None
    # The repository's canonical name (`library/centos`), which every decision uses, and the
    # name the client wrote (`centos`), which every answer uses (Location, Link, tags list).
    full_name: str = ""
    client_name: str = ""
    repository: Repository | None = None
    actions: set[str] = field(default_factory=set)
    # Pulls of this name are served by the pull-through cache (registry_api.proxy).
    mirrored: bool = False
    # The name is an old one of `repository`, followed for this caller (registry_api.redirects).
    moved: bool = False
    # The name is an old one, of a repository this caller may not pull: an unknown name to them.
    redirect_target: Repository | None = None

    def actions_on(self, full_name: str) -> set[str]:
        """Actions granted on another repository (e.g. the source of a cross-repository mount)."""
        if self.claims is not None:
            return token_actions(self.claims, resource_type="repository", name=full_name)
        return permissions.repository_access(self.user, full_name, self.scopes).actions

    def repository_for_push(self) -> Repository:
        """The repository to write to, created on first push (the gate checked `push`)."""
        if self.repository is None:
            from hub.services.repositories import repository_create

            namespace_name, name = repository_resolve(self.full_name)
            existing = repository_get(namespace=namespace_name, name=name)
            if existing is None:
                try:
                    existing = repository_create(
                        namespace=namespace_get(name=namespace_name),
                        name=name,
                        actor=self.user_or_none,
                    )
                except ValidationError:
                    # A concurrent first push created it between our read and our insert.
                    existing = repository_get(namespace=namespace_name, name=name)
                    if existing is None:
                        raise NameInvalid({"name": self.full_name}) from None
            self.repository = existing
        return self.repository

    @property
    def user_or_none(self):
        return self.user if getattr(self.user, "is_authenticated", False) else None


def _challenge(request, scope: str = "", error: str = "") -> str:
    realm = request.build_absolute_uri("/auth/token")
    value = f'Bearer realm="{realm}",service="{settings.REGISTRY_SERVICE}"'
    if scope:
        value += f',scope="{scope}"'
    if error:
        value += f',error="{error}"'
    return value


class RegistryJson(JsonResponse):
    """JSON as registry:2 writes it: compact, one line ending in a newline, so `curl -u ...
    /v2/_catalog` prints `{"repositories":["centos"]}` exactly as the registry it replaces did."""

    def __init__(self, data, **kwargs):
        super().__init__(data, json_dumps_params={"separators": (",", ":")}, **kwargs)
        self.content += b"\n"


def error_response(request, error: RegistryError) -> HttpResponse:
    """Render the OCI error body; HEAD answers carry the status and headers only."""
    if request.method == "HEAD":
        response = HttpResponse(status=error.status, content_type="application/json")
    else:
        response = RegistryJson(error.as_json(), status=error.status)
    for name, value in error.headers.items():
        response[name] = value
    return response


# Verified Bearer tokens of this process -> their claims. docker sends the same token with every
# request of a pull: checking its signature once saves a fraction of each GET. A hit is checked
# against its expiry again; the key holds the settings the verification depended on.
_VERIFIED_MAX = 4096
_verified: dict[tuple, dict] = {}


def _token_claims(token: str) -> dict:
    key = (token, settings.REGISTRY_SERVICE, settings.TOKEN_ISSUER, settings.TOKEN_SIGNING_KEY)
    claims = _verified.get(key)
    if claims is not None and claims["exp"] > time.time():
        return claims
    claims = token_verify(token)
    if len(_verified) >= _VERIFIED_MAX:
        _verified.clear()  # simpler than LRU; tokens live minutes, a refill costs one verify each
    _verified[key] = claims
    return claims


def _token_user(username: str):
    return get_user_model().objects.filter(username=username).first() or AnonymousUser()


def _authenticate(request, ctx: RegistryContext) -> bool:
    """Fill ctx.user/claims/scopes from the Authorization header; False when none was sent."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    kind, _, value = header.partition(" ")
    kind = kind.lower()
    if kind == "bearer" and value.strip():
        try:
            ctx.claims = _token_claims(value.strip())
        except jwt.InvalidTokenError as exc:
            raise Unauthorized(
                message="invalid or expired token",
                headers={"WWW-Authenticate": _challenge(request, error="invalid_token")},
            ) from exc
        subject = ctx.claims.get("sub") or ""
        if not subject and not settings.ANONYMOUS_READ:
            # An anonymous token (perhaps issued before reads needed signing in) reads nothing.
            ctx.claims = None
            return False
        # The token's grants decide; most requests (pulls) never look at the user: load it lazily.
        if subject:
            ctx.user = SimpleLazyObject(functools.partial(_token_user, subject))
        return True
    if kind == "basic" and value.strip():
        try:
            credentials = basic_credentials(request, value)
        except MalformedCredentials:
            credentials = None
        except TooManyAttempts as exc:
            raise TooManyRequests(headers={"Retry-After": "60"}) from exc
        if credentials is None:
            raise Unauthorized(
                message="invalid username or password",
                headers={"WWW-Authenticate": _challenge(request)},
            )
        ctx.user, ctx.scopes = credentials.user, credentials.scopes
        return True
    if header.strip():
        # `Bearer` without a token, `Digest ...`, `Basic` without credentials: never anonymous.
        raise Unauthorized(
            message="malformed or unsupported Authorization header",
            headers={"WWW-Authenticate": _challenge(request, error="invalid_request")},
        )
    return False


def _mirror_name(request, client_name: str) -> str:
    """The name here of a containerd mirror request's `<ns>/<name>`; NAME_UNKNOWN when no cache
    serves that upstream (containerd then tries its next host)."""
    from registry_api.proxy.upstreams import mirror_name_for

    ns = request.GET.get("ns", "")
    name = mirror_name_for(ns=ns, name=client_name) if len(ns) <= 255 else None
    if name is None:
        raise NameUnknown({"name": client_name, "ns": ns[:255]})
    return name


def _resolve(ctx: RegistryContext, client_name: str) -> None:
    namespace_name, name = repository_resolve(client_name)
    ctx.client_name = client_name
    ctx.full_name = full_name = f"{namespace_name}/{name}"
    ctx.repository = repository_lookup(namespace=namespace_name, name=name)
    if ctx.claims is not None:
        granted = token_actions(ctx.claims, resource_type="repository", name=full_name)
        access = permissions.token_access(granted, ctx.user, full_name, ctx.repository)
    else:
        access = permissions.repository_access(
            ctx.user, full_name, ctx.scopes, repository=ctx.repository
        )
    ctx.actions, ctx.mirrored = access.actions, access.mirrored
    if ctx.repository is None or "pull" not in ctx.actions:
        # Also for a repository the caller may not pull (there is never a redirect at a taken
        # name): a private name and an absent one then cost the same queries, in one order.
        target = redirect_lookup(namespace=namespace_name, name=name)
        if ctx.repository is None and target is not None and not _redirect_follow(ctx, target):
            ctx.redirect_target = target


def _redirect_principal(ctx: RegistryContext):
    """(user, scopes) the caller stands for now, or None (a token whose credentials went)."""
    if ctx.claims is None:
        return ctx.user, ctx.scopes
    return grant_versions.token_principal(ctx.claims, ctx.user)


def _redirect_follow(ctx: RegistryContext, target: Repository) -> bool:
    """Serve this old name from `target` if the caller may pull `target` now (the database
    decides, not a token's stamp: the old name's grants were never bumped with the target's)."""
    principal = _redirect_principal(ctx)
    if principal is None:
        return False
    user, scopes = principal
    actions = permissions.redirect_access(user, target, scopes).actions
    if ctx.claims is not None:
        actions &= token_actions(ctx.claims, resource_type="repository", name=ctx.full_name)
    if not actions:
        return False
    ctx.repository, ctx.moved, ctx.actions, ctx.mirrored = target, True, actions, False
    return True


def _scope_for(request, full_name: str, action: str) -> str:
    """The scope a challenge names: what the request needs (space-separated, as CNCF
    Distribution), including `pull` on the source of a cross-repository mount, so a client
    that asks for what the challenge names gets the blob mounted rather than a new upload."""
    scope = f"repository:{full_name}:{'pull,push' if action == 'push' else action}"
    source = request.GET.get("from", "") if request.method == "POST" else ""
    if request.GET.get("mount") and REPOSITORY_PATH_RE.fullmatch(source):
        scope += f" repository:{source}:pull"
    return scope


_WRITES = frozenset({"push", "delete"})


def _grants_recheck(ctx: RegistryContext, action: str) -> None:
    """A token's grant for a write or on a private repository must still hold: when a version
    it was issued at has moved, decide again from the database."""
    private = ctx.repository is not None and ctx.repository.is_private
    if ctx.claims is None or ctx.moved or not (action in _WRITES or private):
        return  # a followed redirect was decided from the database already
    if grant_versions.stamp_current(ctx.claims, ctx.full_name):
        return
    ctx.actions = ctx.actions & _obtainable(ctx)


def _authorize(request, ctx: RegistryContext, action: str, authenticated: bool) -> None:
    if action in ctx.actions:
        _grants_recheck(ctx, action)
    if action in ctx.actions:
        return
    scope = _scope_for(request, ctx.client_name, action)
    if ctx.claims is not None and action in _obtainable(ctx):
        # The token lacks a scope its subject may hold: name it, the client asks for it.
        raise Unauthorized(
            headers={"WWW-Authenticate": _challenge(request, scope, "insufficient_scope")}
        )
    if action == "push" and (scopes := _credentials_scopes(ctx)) is not _NOT_SIGNED_IN:
        # A signed-in caller who may not push here will not be allowed by a new token either:
        # DENIED ends docker's push at once (it retries other errors for a minute). A private
        # repository they may not see gets the very answer an absent name gets.
        raise Denied(message=_push_denied_message(ctx, scopes))
    if authenticated and (ctx.repository is not None or ctx.mirrored) and "pull" in ctx.actions:
        # The caller sees the repository (or the mirror) but may not do this to it.
        raise Denied()
    error = "insufficient_scope" if authenticated else ""
    raise Unauthorized(headers={"WWW-Authenticate": _challenge(request, scope, error)})


_NOT_SIGNED_IN = object()


def _credentials_scopes(ctx: RegistryContext):
    """The access-token scopes of a signed-in caller whose credentials still hold (None: a
    password), or _NOT_SIGNED_IN for anonymous callers and for credentials that no longer hold
    (those get the 401 that sends docker to log in again)."""
    if ctx.user_or_none is None:
        return _NOT_SIGNED_IN
    if ctx.claims is None:
        return ctx.scopes
    principal = grant_versions.token_principal(ctx.claims, ctx.user)
    return _NOT_SIGNED_IN if principal is None else principal[1]


def _push_denied_message(ctx: RegistryContext, scopes) -> str:
    """Say where the caller may push instead: the same name in their own namespace."""
    message = f"requested access to {ctx.full_name} is denied"
    if ctx.moved:  # only callers who may pull the moved repository learn its name
        new_name = ctx.repository.display_name
        return f"{message}: {moved_message(ctx)}; push to {new_name} instead"
    own = Namespace.objects.filter(user=ctx.user).first()
    _, _, name = ctx.full_name.partition("/")
    suggestion = f"{own.name}/{name}" if own is not None else ""
    if not suggestion or suggestion == ctx.full_name:
        return message
    if not permissions.can_create(ctx.user, own, scopes):
        return message
    return f"{message}: you may push to {suggestion}"


def _obtainable(ctx: RegistryContext) -> set[str]:
    """What a new token would grant this Bearer caller on the repository (the decision)."""
    principal = grant_versions.token_principal(ctx.claims, ctx.user)
    if principal is None:
        return set()  # deactivated, password changed, access token revoked
    user, scopes = principal
    if ctx.moved:
        return permissions.redirect_access(user, ctx.repository, scopes).actions
    if ctx.redirect_target is not None:  # perhaps pullable with a new token: ask by name
        return permissions.repository_access(user, ctx.full_name, scopes).actions
    return permissions.repository_access(
        user, ctx.full_name, scopes, repository=ctx.repository
    ).actions


def registry_endpoint(
    *,
    action_by_method: dict[str, str] | None = None,
    methods: tuple[str, ...] | None = ("GET", "HEAD"),
    catalog: bool = False,
    authenticate: bool = True,
):
    """Wrap a /v2/ view as `view(request, ctx, **url_kwargs)`.

    `action_by_method` maps each allowed HTTP method to the repository action it needs (routes
    with a `name`); `methods` lists the allowed methods of routes without one. `catalog` routes
    need the `registry:catalog:*` grant (or Basic credentials). Views raise RegistryError.
    """
    allowed = tuple(action_by_method) if action_by_method else methods

    def decorator(view):
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            ctx = request.registry_ctx = RegistryContext()  # the access log reads its user
            with lookups.request_snapshot():
                return _serve(request, ctx, view, args, kwargs)

        def _serve(request, ctx, view, args, kwargs):
            try:
                if allowed is not None and request.method not in allowed:
                    raise Unsupported(
                        message=f"method {request.method} not allowed",
                        headers={"Allow": ", ".join(allowed)},
                    )
                if authenticate:
                    authenticated = _authenticate(request, ctx)
                    full_name = kwargs.pop("name", None)
                    if full_name is not None:
                        # QUERY_STRING first: most GETs have none, and request.GET parses one.
                        if request.META.get("QUERY_STRING") and "ns" in request.GET:
                            full_name = _mirror_name(request, full_name)
                        _resolve(ctx, full_name)
                        _authorize(request, ctx, action_by_method[request.method], authenticated)
                    elif not authenticated:
                        scope = "registry:catalog:*" if catalog else ""
                        raise Unauthorized(
                            headers={"WWW-Authenticate": _challenge(request, scope=scope)}
                        )
                    elif catalog and ctx.claims is not None:
                        granted = token_actions(
                            ctx.claims, resource_type="registry", name="catalog"
                        )
                        if "*" not in granted and "pull" not in granted:
                            raise Unauthorized(
                                headers={
                                    "WWW-Authenticate": _challenge(
                                        request,
                                        scope="registry:catalog:*",
                                        error="insufficient_scope",
                                    )
                                }
                            )
                response = view(request, ctx, *args, **kwargs)
            except (RegistryError, ServiceError) as error:
                response = error_response(request, registry_error(error))
            if ctx.moved:
                moved_headers(request, ctx, response)
            response[API_VERSION_HEADER[0]] = API_VERSION_HEADER[1]
            return response

        return wrapper

    return decorator
