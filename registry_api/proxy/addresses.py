"""Which addresses the cache may reach: an upstream registry, its token realm and whatever they
redirect to must be public (no loopback, private, link-local or metadata address) unless
MIRROR_ALLOW_PRIVATE_UPSTREAMS=true (a registry on the local network).

Checked when an administrator saves a proxy cache (every address the name resolves to) and at
each connection, where the name is resolved once and every address is checked before the
connection opens, so a name re-pointed after the save (DNS rebinding) is refused too. The
address rule and the guarded adapter are the webhooks' ones (webhooks.url_safety).
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from django.conf import settings

from webhooks.url_safety import GuardedAdapter, address_is_blocked


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


def upstream_adapter() -> GuardedAdapter:
    """A requests adapter that connects only to public addresses, checked before connecting."""
    return GuardedAdapter(allow_private=private_upstreams_allowed)
