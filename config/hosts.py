"""The host names a server answers to when ALLOWED_HOSTS is not set."""

from __future__ import annotations

from urllib.parse import urlsplit

LOOPBACK_NAMES = ["localhost", "127.0.0.1", "[::1]"]
WILDCARD_BINDS = {"", "0.0.0.0", "::"}  # noqa: S104 - names of binds, not a bind


def allowed_hosts_default(site_url: str, *, bind_host: str) -> list[str]:
    """The site URL's host, the address the server binds (unless it binds every address) and
    the loopback names; Django's ALLOWED_HOSTS writes IPv6 addresses in brackets."""
    hosts = []
    site_host = urlsplit(site_url).hostname or ""
    for host in (site_host, "" if bind_host in WILDCARD_BINDS else bind_host, *LOOPBACK_NAMES):
        host = f"[{host}]" if ":" in host and not host.startswith("[") else host
        if host and host not in hosts:
            hosts.append(host)
    return hosts
