"""The host names a server answers to when ALLOWED_HOSTS is not set."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

LOOPBACK_NAMES = ["localhost", "127.0.0.1", "[::1]"]
WILDCARD_BINDS = {"", "0.0.0.0", "::"}  # noqa: S104 - names of binds, not a bind


def certificate_names(path: str) -> list[str]:
    """The DNS names and addresses a PEM certificate's subjectAltName lists (none if unreadable:
    gunicorn reports a broken certificate itself)."""
    from cryptography import x509

    try:
        certificate = x509.load_pem_x509_certificate(Path(path).read_bytes())
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return []
    return [
        *names.get_values_for_type(x509.DNSName),
        *map(str, names.get_values_for_type(x509.IPAddress)),
    ]


def allowed_hosts_default(site_url: str, *, bind_host: str, tls_cert: str = "") -> list[str]:
    """The site URL's host, the address the server binds (unless it binds every address), the
    loopback names and, when serving TLS, the names its certificate is for (the names clients
    are told to use); Django's ALLOWED_HOSTS writes IPv6 addresses in brackets."""
    hosts = []
    site_host = urlsplit(site_url).hostname or ""
    bound = "" if bind_host in WILDCARD_BINDS else bind_host
    certified = certificate_names(tls_cert) if tls_cert else []
    for host in (site_host, bound, *LOOPBACK_NAMES, *certified):
        host = f"[{host}]" if ":" in host and not host.startswith("[") else host
        if host and host not in hosts:
            hosts.append(host)
    return hosts
