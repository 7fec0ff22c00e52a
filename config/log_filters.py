"""Logging filters named by settings.LOGGING."""

from __future__ import annotations

import logging

# On /v2/, 401 is the challenge every client meets before it logs in (docker login, each pull
# of a token-protected repository) and 404 is "not here yet" to the HEAD a push sends for each
# blob: the protocol working, answered per request.
_REGISTRY_PROTOCOL_STATUSES = {401, 404}


class RegistryProtocolAnswers(logging.Filter):
    """Drop django.request's "Unauthorized: /v2/" and "Not Found: /v2/…" warnings, unless the
    log level is DEBUG; every other 4xx and every 5xx is logged as before."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        path = getattr(request, "path", "")
        if getattr(record, "status_code", None) not in _REGISTRY_PROTOCOL_STATUSES:
            return True
        if not (path == "/v2" or path.startswith("/v2/")):
            return True
        return logging.getLogger().isEnabledFor(logging.DEBUG)
