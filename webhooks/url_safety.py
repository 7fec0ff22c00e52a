"""Refuse outgoing requests to loopback, private, link-local and metadata addresses (SSRF).

Checked when a URL is saved (every address its host resolves to) and again when a request
connects: the host is resolved once, every address is checked before any packet is sent, and the
socket connects to a checked address, never to a second resolution. So a name re-pointed after the
save (DNS rebinding) is refused before it is reached, and the attempt log says the same for an
open and a closed private port (no port-scan oracle).

IPv6 forms that carry an IPv4 address (IPv4-mapped and -compatible, SIIT, NAT64, 6to4, Teredo) are
judged by that IPv4 address: Python's `is_global` calls `64:ff9b::127.0.0.1` global.

Webhooks use WEBHOOK_ALLOW_PRIVATE_TARGETS=true to turn both checks off for trusted networks and
tests; other callers pass `allow_private` themselves.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util import connection

# RFC 6052 well-known NAT64 prefix: the IPv4 address is the last 32 bits.
NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")
# RFC 8215 local-use NAT64 prefix: translates into the operator's own network; never public.
NAT64_LOCAL_USE = ipaddress.ip_network("64:ff9b:1::/48")
# RFC 4291 section 2.5.5.1 IPv4-compatible (deprecated; `::` and `::1` are in it too).
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
# RFC 2765 (SIIT) IPv4-translated addresses, ::ffff:0:a.b.c.d.
IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")


class UnsafeURL(ValueError):
    pass


class BlockedAddress(OSError):
    """The host resolves to an address we may not call; nothing was sent to it."""

    def __init__(self, address: str):
        self.address = address
        super().__init__(f"refused to connect to non-public address {address}")


def private_targets_allowed() -> bool:
    return bool(settings.WEBHOOK_ALLOW_PRIVATE_TARGETS)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 transition address stands for ([] for a plain IPv6 address)."""
    last_32_bits = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    if ip in IPV4_TRANSLATED or ip in IPV4_COMPATIBLE or ip in NAT64_WELL_KNOWN:
        return [last_32_bits]
    if ip.sixtofour is not None:
        return [ip.sixtofour]
    if ip.teredo is not None:
        return list(ip.teredo)  # (server, client)
    return []


def address_is_blocked(address: str) -> bool:
    """True unless the address is globally routable unicast (metadata 169.254.169.254 included).

    An IPv6 address carrying an IPv4 address is blocked unless that IPv4 address is public too.
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return True
    if not ip.is_global or ip.is_multicast:
        return True
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in NAT64_LOCAL_USE:
            return True
        return any(address_is_blocked(str(embedded)) for embedded in _embedded_ipv4(ip))
    return False


def public_addresses(host: str, port: int) -> list[str]:
    """Resolve `host` once; return its addresses, or raise BlockedAddress if any is not public.

    socket.gaierror propagates when the name does not resolve.
    """
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    for address in addresses:
        if address_is_blocked(address):
            raise BlockedAddress(address)
    return addresses


def url_check(url: str, *, allow_private: bool | None = None) -> None:
    """Raise UnsafeURL when the URL is not http(s) or its host resolves to a refused address.

    `allow_private` defaults to WEBHOOK_ALLOW_PRIVATE_TARGETS.
    """
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeURL("Not a valid URL.") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeURL("Use an http:// or https:// URL with a host.")
    if private_targets_allowed() if allow_private is None else allow_private:
        return
    try:
        public_addresses(parts.hostname, port)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeURL(f"The host {parts.hostname} does not resolve.") from exc
    except BlockedAddress as exc:
        # Webhooks (the default) have a setting that lifts the refusal: say which one.
        remedy = (
            " An administrator can allow private targets with WEBHOOK_ALLOW_PRIVATE_TARGETS=true."
            if allow_private is None
            else ""
        )
        raise UnsafeURL(
            f"{parts.hostname} resolves to {exc.address}, a loopback, private, link-local or "
            f"reserved address; this server may not call it.{remedy}"
        ) from exc


class _CheckedConnect:
    """Mixin for urllib3 connections: resolve once, check, then connect to the checked address."""

    def __init__(self, *args, allow_private: Callable[[], bool], **kwargs):
        self._allow_private = allow_private
        super().__init__(*args, **kwargs)

    def _new_conn(self):
        if self._allow_private():
            return super()._new_conn()
        try:
            addresses = public_addresses(self.host, self.port)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        error: OSError | None = None
        for address in addresses:
            try:
                return connection.create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError as exc:
                raise ConnectTimeoutError(
                    self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
                ) from exc
            except OSError as exc:
                error = exc
        raise NewConnectionError(self, f"Failed to establish a new connection: {error}") from error


class _GuardedHTTPConnection(_CheckedConnect, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_CheckedConnect, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


def _never() -> bool:
    return False


class GuardedAdapter(HTTPAdapter):
    """A requests adapter that only connects to public addresses, checked before connecting.

    `allow_private` is asked at each connection (e.g. a setting); by default never.
    """

    def __init__(self, *args, allow_private: Callable[[], bool] = _never, **kwargs):
        self._allow_private = allow_private
        super().__init__(*args, **kwargs)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        # Pools hand extra keyword arguments on to each connection they make.
        self.poolmanager.pool_classes_by_scheme = {
            "http": functools.partial(_GuardedHTTPPool, allow_private=self._allow_private),
            "https": functools.partial(_GuardedHTTPSPool, allow_private=self._allow_private),
        }
