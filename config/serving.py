"""Where `make run` serves: gunicorn's bind address, the URL it announces, whether its port is free.

python -m config.serving check   # exit 1 with a sentence when HOST:PORT cannot be listened on
"""

from __future__ import annotations

import errno
import os
import socket
import sys

from config.hosts import WILDCARD_BINDS, machine_names

# sysexits.h EX_CONFIG: "cannot run as configured". scripts/supervise.py stops the whole group on
# it instead of restarting a server whose port another program holds.
EXIT_CANNOT_SERVE = 78


def bind_host() -> str:
    # HOST=[::1] is how URLs write it; sockets want the bare address.
    return (os.environ.get("HOST") or "127.0.0.1").strip().removeprefix("[").removesuffix("]")


def bind_port() -> int:
    return int(os.environ.get("PORT") or "8000")


def host_in_url(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def served_url(host: str, port: int, *, tls: bool) -> str:
    """The URL to open on this machine: a wildcard bind is reached through loopback."""
    reachable = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104
    return f"{'https' if tls else 'http'}://{host_in_url(reachable)}:{port}/"


def ready_message(host: str, port: int, *, tls: bool, site_url: str = "") -> str:
    message = f"Dockyard on {served_url(host, port, tls=tls)} (registry at /v2/)."
    if site_url:
        message += f" Public address (SITE_URL): {site_url}."
    elif host in WILDCARD_BINDS:
        # Clients on the network use one of these (ALLOWED_HOSTS answers them all by default).
        scheme = "https" if tls else "http"
        addresses = [
            f"{scheme}://{host_in_url(name)}:{port}/"
            for name in machine_names()
            if name[0].isdigit() and not name.startswith("127.")
        ]
        if addresses:
            message += f" On the network: {', '.join(addresses)}."
        message += " Set SITE_URL to the address clients use for links in e-mails and webhooks."
    return message + " Ctrl-C stops it."


def cannot_listen(host: str, port: int) -> str | None:
    """Why gunicorn could not listen on host:port, or None when it can. The test binds the way
    gunicorn does (SO_REUSEADDR: a port whose old connections linger in TIME_WAIT is free)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (
                    f"Port {port} on {host} is already in use: stop the other server"
                    f" or set PORT=... (e.g. PORT={port + 1} make run)."
                )
            if exc.errno == errno.EACCES:
                return f"Port {port} needs privileges to listen on: set PORT=... above 1023."
            if exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
                return f"Cannot listen on {host}: HOST must be an address of this machine."
            if isinstance(exc, socket.gaierror):
                return f"Cannot listen on {host}: HOST is not a known address or name ({exc})."
            return f"Cannot listen on {host_in_url(host)}:{port}: {exc.strerror or exc}."
    return None


def main(argv: list[str]) -> int:
    if argv != ["check"]:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        problem = cannot_listen(bind_host(), bind_port())
    except ValueError:
        problem = f"PORT must be a number, not {os.environ.get('PORT')!r}."
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
