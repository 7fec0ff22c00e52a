"""A small client for an upstream registry's pull API (distribution-spec), with its auth.

Auth follows what registries answer, not what is configured: a `401` with a `Bearer` challenge
sends us to the realm for a token (anonymous, or with the configured credentials as Basic), a
`Basic` challenge gets the credentials directly. Tokens are cached (shared cache, so every web
process reuses them) until shortly before they expire, so a pull costs one token request at most.

The credentials go only where the administrator pointed them: a token realm on another host
than the upstream gets them only when listed in MIRROR_TOKEN_REALM_HOSTS (otherwise the token
is asked for anonymously), and redirects are followed by hand, dropping the Authorization as soon
as one leaves the host it was meant for (blob redirects to a CDN carry signed URLs, not ours).
Every connection goes through the address guard (addresses.py).
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings
from django.core.cache import cache

from config import serving_hints
from registry_api.digests import digest_bytes
from registry_api.manifests import MANIFEST_TYPES, media_type_base
from registry_api.proxy.addresses import upstream_adapter
from registry_api.proxy.upstreams import Upstream

MANIFEST_ACCEPT = ", ".join(MANIFEST_TYPES)
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
UPSTREAM_DOWN_SECONDS = 15
MAX_REDIRECTS = 5
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
TAG_PAGE_SIZE = 1000
TAG_PAGES = 100
_NEXT_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?next"?')
_CHALLENGE_PARAM = re.compile(r'([a-zA-Z_]+)\s*=\s*(?:"([^"]*)"|([^\s,]+))')


class UpstreamError(Exception):
    """The upstream could not answer (down, slow, 5xx, refused our credentials, bad data)."""


class UpstreamNotFound(UpstreamError):
    """The upstream answered that it has no such repository, manifest or blob."""


class UpstreamRateLimited(UpstreamError):
    """The upstream answered 429."""


@dataclass(frozen=True)
class FetchedManifest:
    body: bytes
    media_type: str
    digest: str


def _timeout() -> tuple[float, float]:
    return (settings.MIRROR_UPSTREAM_CONNECT_TIMEOUT, settings.MIRROR_UPSTREAM_READ_TIMEOUT)


def challenge_parse(header: str) -> tuple[str, dict[str, str]]:
    """Split `Bearer realm="…",service="…"` into ("bearer", {realm, service, …})."""
    scheme, _, rest = header.strip().partition(" ")
    params = {
        m.group(1).lower(): m.group(2) or m.group(3) or "" for m in _CHALLENGE_PARAM.finditer(rest)
    }
    return scheme.lower(), params


def _origin(url: str) -> tuple[str, str, int | None] | None:
    """(scheme, host, port) of an http(s) URL; None for anything else or a malformed URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port


class UpstreamClient:
    def __init__(self, upstream: Upstream, session: requests.Session | None = None):
        self.upstream = upstream
        self.session = session or requests.Session()
        self.session.trust_env = False  # no HTTP(S)_PROXY surprises between registries
        self.session.mount("http://", upstream_adapter())
        self.session.mount("https://", upstream_adapter())

    # Auth ------------------------------------------------------------------------------------

    def _cache_key(self, kind: str, scope: str = "") -> str:
        identity = f"{self.upstream.base_url}|{self.upstream.username}|{scope}"
        return f"proxy-{kind}:{hashlib.sha256(identity.encode()).hexdigest()}"

    @property
    def _basic(self) -> tuple[str, str] | None:
        if self.upstream.username or self.upstream.password:
            return (self.upstream.username, self.upstream.password)
        return None

    def realm_approved(self, realm: str) -> bool:
        """May the configured credentials go to this token realm? Only to the upstream's own
        host or one the administrator listed, and never in clear when the upstream uses TLS."""
        realm_origin, upstream_origin = _origin(realm), _origin(self.upstream.base_url)
        if realm_origin is None or upstream_origin is None:
            return False
        if upstream_origin[0] == "https" and realm_origin[0] != "https":
            return False
        return realm_origin[1] in {upstream_origin[1], *settings.MIRROR_TOKEN_REALM_HOSTS}

    def _token_fetch(self, params: dict[str, str], scope: str) -> str | None:
        realm = params.get("realm", "")
        if _origin(realm) is None:
            return None
        query = {"service": params.get("service", "")} if params.get("service") else {}
        query["scope"] = params.get("scope") or scope
        auth = self._basic if self.realm_approved(realm) else None
        response = self._send("GET", realm, headers={}, auth=auth, stream=False, params=query)
        if response.status_code == 429:
            raise UpstreamRateLimited("token endpoint answered 429")
        if response.status_code >= 500:
            raise UpstreamError(f"token endpoint answered {response.status_code}")
        if response.status_code != 200:
            return None
        try:
            body = response.json()
        except ValueError:
            return None
        token = body.get("token") or body.get("access_token")
        if not token:
            return None
        expires_in = body.get("expires_in") if isinstance(body.get("expires_in"), int) else 60
        cache.set(self._cache_key("token", scope), token, timeout=max(expires_in - 15, 5))
        return token

    def request(
        self, method: str, path: str, *, scope: str, headers=None, stream=False, follow=True
    ):
        """Send a request to `<upstream>/v2/<path>`, answering one auth challenge on the way
        (and following redirects unless `follow` is false)."""
        serving_hints.waits_on_network()  # never answered in the serving loop (its hints)
        url = f"{self.upstream.base_url}/v2/{path}"
        headers = dict(headers or {})
        send = functools.partial(self._send, stream=stream, follow=follow)
        token = cache.get(self._cache_key("token", scope))
        auth = None
        if token:
            headers["Authorization"] = f"Bearer {token}"
        elif cache.get(self._cache_key("basic")):
            auth = self._basic
        response = send(method, url, headers=headers, auth=auth)
        if response.status_code != 401:
            return response
        scheme, params = challenge_parse(response.headers.get("WWW-Authenticate", ""))
        response.close()
        headers.pop("Authorization", None)
        if scheme == "bearer":
            token = self._token_fetch(params, scope)
            if token is None:
                raise UpstreamNotFound("upstream refused a token")
            headers["Authorization"] = f"Bearer {token}"
            response = send(method, url, headers=headers, auth=None)
        elif scheme == "basic" and self._basic is not None:
            cache.set(self._cache_key("basic"), True, timeout=3600)
            response = send(method, url, headers=headers, auth=self._basic)
        return response

    def _send(self, method, url, *, headers, auth, stream, params=None, follow=True):
        """Send one request, following redirects by hand: the credentials stay on their host."""
        for _ in range(MAX_REDIRECTS + 1):
            response = self._send_once(
                method, url, headers=headers, auth=auth, stream=stream, params=params
            )
            location = response.headers.get("Location")
            if not follow or response.status_code not in REDIRECT_STATUSES or not location:
                return response
            response.close()
            target = urljoin(response.url, location)
            if _origin(target) is None:
                raise UpstreamError(f"{method} {url} redirected to a non-HTTP URL")
            if _origin(target) != _origin(url):
                headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
                auth = None
            if response.status_code == 303 and method != "HEAD":
                method = "GET"
            url, params = target, None  # the Location is the whole URL
        raise UpstreamError(f"{method} {url}: more than {MAX_REDIRECTS} redirects")

    def _send_once(self, method, url, *, headers, auth, stream, params):
        down = self._cache_key("down")
        if cache.get(down):
            raise UpstreamError("upstream unreachable a moment ago; not retrying yet")
        try:
            return self.session.request(
                method,
                url,
                params=params,
                headers=headers,
                auth=auth,
                stream=stream,
                timeout=_timeout(),
                allow_redirects=False,
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            # Down or too slow (or an address the guard refuses): for a little while, pulls get
            # the cache (or an error) at once instead of each waiting for the timeout.
            cache.set(down, True, timeout=UPSTREAM_DOWN_SECONDS)
            raise UpstreamError(f"{method} {url} failed: {exc}") from exc
        except requests.RequestException as exc:
            raise UpstreamError(f"{method} {url} failed: {exc}") from exc

    @staticmethod
    def _check(response) -> None:
        status = response.status_code
        if status < 300:
            return
        response.close()
        if status == 404 or status in (401, 403):
            # Docker Hub answers 401 for repositories that do not exist: both mean "not here".
            raise UpstreamNotFound(f"upstream answered {status}")
        if status == 429:
            raise UpstreamRateLimited("upstream answered 429")
        raise UpstreamError(f"upstream answered {status}")

    def _scope(self) -> str:
        return f"repository:{self.upstream.remote_name}:pull"

    # Pull API --------------------------------------------------------------------------------

    def manifest_head(self, reference: str) -> str | None:
        """The digest the upstream holds for a tag or digest (None when it does not say)."""
        response = self.request(
            "HEAD",
            f"{self.upstream.remote_name}/manifests/{reference}",
            scope=self._scope(),
            headers={"Accept": MANIFEST_ACCEPT},
        )
        self._check(response)
        response.close()
        return response.headers.get("Docker-Content-Digest") or None

    def manifest_get(self, reference: str) -> FetchedManifest:
        response = self.request(
            "GET",
            f"{self.upstream.remote_name}/manifests/{reference}",
            scope=self._scope(),
            headers={"Accept": MANIFEST_ACCEPT},
            stream=True,
        )
        self._check(response)
        try:
            body = b""
            for chunk in response.iter_content(64 * 1024):
                body += chunk
                if len(body) > MAX_MANIFEST_BYTES:
                    raise UpstreamError("upstream manifest is larger than 4 MiB")
        except requests.RequestException as exc:
            raise UpstreamError(f"manifest read failed: {exc}") from exc
        finally:
            response.close()
        header_digest = response.headers.get("Docker-Content-Digest", "")
        algorithm = header_digest.partition(":")[0] if header_digest else "sha256"
        if ":" in reference:
            algorithm = reference.partition(":")[0]
        if algorithm not in ("sha256", "sha512"):
            algorithm = "sha256"
        digest = digest_bytes(body, algorithm)
        if ":" in reference and digest != reference:
            raise UpstreamError("upstream manifest does not match the digest asked for")
        if header_digest and ":" not in reference and header_digest != digest:
            raise UpstreamError("upstream manifest does not match its Docker-Content-Digest")
        media_type = media_type_base(response.headers.get("Content-Type"))
        return FetchedManifest(body=body, media_type=media_type, digest=digest)

    def blob_head(self, digest: str) -> int | None:
        """The blob's size at the upstream (None when it does not say); UpstreamNotFound when
        the upstream does not hold it for this repository.

        A redirect is the upstream's yes (it serves the bytes from elsewhere, a CDN): the size
        then comes from a HEAD there, without credentials, if that host answers one (URLs
        signed for a GET often refuse a HEAD).
        """
        response = self.request(
            "HEAD", f"{self.upstream.remote_name}/blobs/{digest}", scope=self._scope(), follow=False
        )
        location = response.headers.get("Location")
        if response.status_code in REDIRECT_STATUSES and location:
            response.close()
            target = urljoin(response.url, location)
            if _origin(target) is None:
                return None
            try:
                response = self._send("HEAD", target, headers={}, auth=None, stream=False)
            except UpstreamError:
                return None
            if response.status_code != 200:
                response.close()
                return None
        else:
            self._check(response)
        response.close()
        length = response.headers.get("Content-Length")
        return int(length) if length and length.isdigit() else None

    def blob_get(self, digest: str):
        """An open, streaming `requests.Response` for the blob; the caller closes it."""
        response = self.request(
            "GET", f"{self.upstream.remote_name}/blobs/{digest}", scope=self._scope(), stream=True
        )
        self._check(response)
        return response

    def tags_list(self) -> list[str]:
        """Every tag the upstream lists for the repository, following its pagination (the
        `Link` header's path and query, on the upstream's own host) for at most TAG_PAGES pages."""
        path = f"{self.upstream.remote_name}/tags/list?n={TAG_PAGE_SIZE}"
        names: list[str] = []
        for _ in range(TAG_PAGES):
            response = self.request("GET", path, scope=self._scope())
            self._check(response)
            try:
                body = response.json()
            except ValueError as exc:
                raise UpstreamError("upstream tags list is not JSON") from exc
            finally:
                response.close()
            tags = body.get("tags") if isinstance(body, dict) else None
            names.extend(tag for tag in tags or [] if isinstance(tag, str))
            path = _next_page(response.headers.get("Link", ""))
            if path is None:
                break
        return names


def _next_page(link: str) -> str | None:
    """The `/v2/`-relative path of a `Link: <…>; rel="next"` header, or None."""
    match = _NEXT_LINK.search(link)
    if match is None:
        return None
    parts = urlsplit(match.group(1))
    if not parts.path.startswith("/v2/"):
        return None
    return parts.path[len("/v2/") :] + (f"?{parts.query}" if parts.query else "")
