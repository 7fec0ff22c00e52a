"""Which addresses the cache may reach: an upstream registry, its token realm and whatever they
redirect to must be public (no loopback, private, link-local or metadata address) unless
MIRROR_ALLOW_PRIVATE_UPSTREAMS=true (a registry on the local network).

Checked when an administrator saves a proxy cache (every address the name resolves to) and when
a connection opens (the socket's actual peer), so a name re-pointed after the save (DNS
rebinding) is refused too. The address rule itself is the webhooks' one.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from webhooks.url_safety import address_is_blocked


class BlockedUpstreamAddress(OSError):
    """The connection reached an address the cache may not call."""


def private_upstreams_allowed() -> bool:
    return bool(settings.MIRROR_ALLOW_PRIVATE_UPSTREAMS)


def upstream_address_problem(url: str) -> str | None:
    """Why the cache may not call this URL's host (a message for the administrator), or None."""
    if private_upstreams_allowed():
        return None
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "Not a valid URL."
    host = parts.hostname or ""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return f"The host {host} does not resolve."
    for address in sorted({info[4][0] for info in infos}):
        if address_is_blocked(address):
            return (
                f"{host} resolves to {address}, a loopback, private, link-local or reserved "
                "address (set MIRROR_ALLOW_PRIVATE_UPSTREAMS=true for a registry on your network)."
            )
    return None


class _PeerCheck:
    """Mixin for urllib3 connections: check the connected peer before any byte is sent."""

    def _new_conn(self):
        sock = super()._new_conn()
        if not private_upstreams_allowed():
            try:
                peer = sock.getpeername()[0]
            except OSError:
                peer = ""
            if address_is_blocked(peer):
                sock.close()
                raise BlockedUpstreamAddress(f"refused to connect to non-public address {peer}")
        return sock


class _GuardedHTTPConnection(_PeerCheck, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_PeerCheck, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class UpstreamAdapter(HTTPAdapter):
    """A requests adapter whose connections refuse non-public peers (unless allowed)."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPPool,
            "https": _GuardedHTTPSPool,
        }
