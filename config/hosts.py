"""The host names a server answers to when ALLOWED_HOSTS is not set."""

from __future__ import annotations

import fcntl
import ipaddress
import socket
import struct
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


_SIOCGIFADDR = 0x8915  # Linux: an interface's IPv4 address


def _interface_ipv4(name: str) -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            packed = fcntl.ioctl(
                probe.fileno(), _SIOCGIFADDR, struct.pack("256s", name[:15].encode())
            )
        except OSError:
            return ""  # no IPv4 address on it
    return socket.inet_ntoa(packed[20:24])


def _interface_ipv6() -> list[str]:
    try:
        lines = Path("/proc/net/if_inet6").read_text().splitlines()
    except OSError:
        return []
    return [str(ipaddress.IPv6Address(bytes.fromhex(line.split()[0]))) for line in lines if line]


def machine_names() -> list[str]:
    """This machine's names and interface addresses: what a LAN client types to reach a server
    bound to every address (registry:2 answers any of them; so do we, without a SITE_URL)."""
    names = [socket.gethostname(), socket.getfqdn()]
    try:
        interfaces = [name for _, name in socket.if_nameindex()]
    except OSError:
        interfaces = []
    names += [_interface_ipv4(name) for name in interfaces]
    names += [a for a in _interface_ipv6() if not ipaddress.IPv6Address(a).is_link_local]
    return [name.lower() for name in names if name]


def allowed_hosts_default(site_url: str, *, bind_host: str, tls_cert: str = "") -> list[str]:
    """The site URL's host, the address the server binds (this machine's names and addresses when
    it binds every address), the loopback names and, when serving TLS, the names its certificate
    is for (the names clients are told to use); Django's ALLOWED_HOSTS writes IPv6 addresses in
    brackets."""
    hosts = []
    site_host = urlsplit(site_url).hostname or ""
    bound = machine_names() if bind_host in WILDCARD_BINDS else [bind_host]
    certified = certificate_names(tls_cert) if tls_cert else []
    for host in (site_host, *bound, *LOOPBACK_NAMES, *certified):
        host = f"[{host}]" if ":" in host and not host.startswith("[") else host
        if host and host not in hosts:
            hosts.append(host)
    return hosts
