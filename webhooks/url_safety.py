"""Refuse webhook targets on loopback, private, link-local and metadata addresses (SSRF).

Checked twice: when a hook is saved (every address the name resolves to) and when the delivery
connects (the socket's actual peer), so a name re-pointed after the check (DNS rebinding) is still
refused. WEBHOOK_ALLOW_PRIVATE_TARGETS=true turns both checks off for trusted networks and tests.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class UnsafeURL(ValueError):
    pass


class BlockedAddress(OSError):
    """The connection reached an address webhooks may not call."""


def private_targets_allowed() -> bool:
    return bool(settings.WEBHOOK_ALLOW_PRIVATE_TARGETS)


def address_is_blocked(address: str) -> bool:
    """True unless the address is globally routable unicast (metadata 169.254.169.254 included)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return True
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeURL(f"The host {host} does not resolve.") from exc
    return sorted({info[4][0] for info in infos})


def url_check(url: str) -> None:
    """Raise UnsafeURL when the URL is not http(s) or reaches a refused address."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeURL("Not a valid URL.") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeURL("Use an http:// or https:// URL with a host.")
    if private_targets_allowed():
        return
    for address in _resolve(parts.hostname, port):
        if address_is_blocked(address):
            raise UnsafeURL(
                f"{parts.hostname} resolves to {address}, a loopback, private, link-local or "
                "reserved address; webhooks may not call it."
            )


class _PeerCheck:
    """Mixin for urllib3 connections: check the connected peer before any byte is sent."""

    def _new_conn(self):
        sock = super()._new_conn()
        if not private_targets_allowed():
            try:
                peer = sock.getpeername()[0]
            except OSError:
                peer = ""
            if address_is_blocked(peer):
                sock.close()
                raise BlockedAddress(f"refused to connect to non-public address {peer}")
        return sock


class _GuardedHTTPConnection(_PeerCheck, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_PeerCheck, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """A requests adapter whose connections refuse non-public peers."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPPool,
            "https": _GuardedHTTPSPool,
        }
