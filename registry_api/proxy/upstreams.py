"""Which upstream registry, if any, serves a repository name, and under which remote name.

Two ways to configure one:
- a `ProxyCache` row binds a local namespace (`hub`) to an upstream: `hub/library/alpine` is
  `library/alpine` there;
- `MIRROR_UPSTREAM_URL` makes Dockyard a prefix-less mirror (dockerd's `registry-mirrors`):
  `library/alpine` is `library/alpine` upstream. It only covers namespaces nobody owns here
  (absent, or the member-less organizations the mirror itself created), so a user's own
  namespace is never filled from the upstream and local repositories always win.

containerd names the upstream of a mirror request in `?ns=<host>` (`/v2/library/alpine/
manifests/3.20?ns=docker.io`): `mirror_name_for` turns that into the name above, so one endpoint
serves several upstreams.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from hub.models import Membership, Namespace
from hub.permissions import NamePolicy
from registry_api.models import ProxyCache

# Docker Hub keeps official images under `library/`; clients add it, a namespaced cache must too.
DOCKER_HUB_HOSTS = {"docker.io", "index.docker.io", "registry-1.docker.io"}


@dataclass(frozen=True)
class Upstream:
    url: str
    username: str
    password: str
    ttl_seconds: int
    require_sign_in: bool
    remote_name: str

    @property
    def base_url(self) -> str:
        return self.url.rstrip("/")

    @property
    def reference(self) -> str:
        """`host[:port]/remote/name`, as docker names the upstream repository (`mirror_of`)."""
        parts = urlsplit(self.base_url)
        return f"{parts.netloc}{parts.path}/{self.remote_name}"


def _remote_name(upstream_url: str, name: str) -> str:
    host = (urlsplit(upstream_url).hostname or "").lower()
    if host in DOCKER_HUB_HOSTS and "/" not in name:
        return f"library/{name}"
    return name


def namespace_is_mirror_owned(namespace: Namespace | None) -> bool:
    """An absent namespace, or an organization without members (created by the mirror)."""
    if namespace is None:
        return True
    if namespace.kind != Namespace.Kind.ORGANIZATION:
        return False
    return not Membership.objects.filter(organization_id=namespace.organization_id).exists()


def upstream_host(url_or_host: str) -> str:
    """The key an upstream is known by: `host[:port]` lowercased, without a default port, and
    `docker.io` for every name of Docker Hub (containerd says `docker.io`, the API is at
    `registry-1.docker.io`)."""
    text = url_or_host if "//" in url_or_host else f"//{url_or_host}"
    try:
        parts = urlsplit(text)
        host, port = (parts.hostname or "").lower(), parts.port
    except ValueError:
        return ""
    if host in DOCKER_HUB_HOSTS:
        return "docker.io"
    default = {"http": 80, "https": 443}.get(parts.scheme)
    if port is None or port == default:
        return f"[{host}]" if ":" in host else host
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def proxy_cache_serving(host: str) -> ProxyCache | None:
    """The proxy cache whose upstream is `host` (the oldest one when several are)."""
    key = upstream_host(host)
    if not key:
        return None
    for proxy in ProxyCache.objects.order_by("pk"):
        if upstream_host(proxy.upstream_url) == key:
            return proxy
    return None


def mirror_name_for(*, ns: str, name: str) -> str | None:
    """The name here of the upstream repository `<ns>/<name>` (a containerd mirror request),
    or None when no cache serves that upstream.

    A proxy cache of that upstream serves it as `<its namespace>/<name>`; else the prefix-less
    mirror, when `ns` is its upstream, as `name` (local names win, as for dockerd). Any other
    upstream is unknown: serving it from the default mirror would answer another registry's
    image under the name asked for.
    """
    proxy = proxy_cache_serving(ns)
    if proxy is not None:
        return f"{proxy.namespace}/{name}"
    mirror = settings.MIRROR_UPSTREAM_URL
    if mirror and upstream_host(ns) and upstream_host(mirror) == upstream_host(ns):
        return name
    return None


def proxy_cache_for(namespace_name: str) -> ProxyCache | None:
    return ProxyCache.objects.filter(namespace=namespace_name).first()


def _upstream(full_name: str, proxy: ProxyCache | None) -> Upstream | None:
    namespace_name, _, rest = full_name.partition("/")
    if not rest:
        return None
    if proxy is not None:
        return Upstream(
            url=proxy.upstream_url,
            username=proxy.username,
            password=proxy.password,
            ttl_seconds=proxy.cache_ttl_seconds,
            require_sign_in=proxy.require_sign_in,
            remote_name=_remote_name(proxy.upstream_url, rest),
        )
    if not settings.MIRROR_UPSTREAM_URL:
        return None
    namespace = Namespace.objects.filter(name=namespace_name).first()
    if not namespace_is_mirror_owned(namespace):
        return None
    return Upstream(
        url=settings.MIRROR_UPSTREAM_URL,
        username=settings.MIRROR_UPSTREAM_USERNAME,
        password=settings.MIRROR_UPSTREAM_PASSWORD,
        ttl_seconds=settings.MIRROR_CACHE_TTL_SECONDS,
        require_sign_in=settings.MIRROR_REQUIRE_SIGN_IN,
        remote_name=full_name,
    )


def _proxy_cache_of(full_name: str) -> ProxyCache | None:
    namespace_name, _, rest = full_name.partition("/")
    return proxy_cache_for(namespace_name) if rest else None


def upstream_for(full_name: str) -> Upstream | None:
    """The upstream that would serve `full_name` (`<namespace>/<name>`), or None."""
    return _upstream(full_name, _proxy_cache_of(full_name))


def name_policy(full_name: str) -> NamePolicy:
    """The pull-through cache's word on a name, for the authorization decision (hub.permissions):
    is it served from an upstream, and does pulling it need a signed-in user?"""
    proxy = _proxy_cache_of(full_name)
    if proxy is not None:
        sign_in_required = proxy.require_sign_in
    else:
        sign_in_required = bool(settings.MIRROR_UPSTREAM_URL) and settings.MIRROR_REQUIRE_SIGN_IN
    return NamePolicy(
        mirrored=_upstream(full_name, proxy) is not None, sign_in_required=sign_in_required
    )
