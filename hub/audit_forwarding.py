"""Handlers that forward audit entries (one JSON object per line) to a file or syslog."""

from __future__ import annotations

import logging
import logging.handlers
import socket
from urllib.parse import urlsplit


def syslog_handler(target: str) -> logging.Handler:
    """`udp://host:514`, `tcp://host:514` or a socket path such as `/dev/log`."""
    if "://" not in target:
        return logging.handlers.SysLogHandler(address=target)
    parts = urlsplit(target)
    if parts.scheme not in ("udp", "tcp") or not parts.hostname:
        raise ValueError(
            f"AUDIT_LOG_SYSLOG: use udp://host:port, tcp://host:port or a path, not {target!r}"
        )

    kind = socket.SOCK_DGRAM if parts.scheme == "udp" else socket.SOCK_STREAM
    handler = logging.handlers.SysLogHandler(
        address=(parts.hostname, parts.port or 514), socktype=kind
    )
    handler.ident = "dockyard-audit: "
    return handler


def handlers_config(*, file: str, syslog: str) -> dict:
    """settings.LOGGING's handlers for the "dockyard.audit" logger."""
    handlers = {}
    if file:
        handlers["audit_file"] = {
            "class": "logging.handlers.WatchedFileHandler",  # logrotate-friendly
            "filename": file,
            "formatter": "audit",
        }
    if syslog:
        handlers["audit_syslog"] = {
            "()": "hub.audit_forwarding.syslog_handler",
            "target": syslog,
            "formatter": "audit",
        }
    return handlers
