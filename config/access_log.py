"""One access-log line and the request metrics for every request, in one middleware.

Second in the stack, after the request id: it times everything else, and its line carries the id.
A streamed response (a blob, a large page) is recorded when the server closes it, so duration
and bytes cover the whole body. The line names the path without its query string (which may
carry a secret) and never a header; the user is the one the request authenticated as, read
without a database query.

gunicorn's own access log is off (config/gunicorn.py): this line replaces it.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import quote

from django.conf import settings
from django.db import connections
from django.utils.functional import empty

from config import metrics
from config.request_context import request_id
from hub.credentials import client_ip

logger = logging.getLogger("dockyard.access")

# Routes whose successful GET bodies are registry pulls, by kind.
_PULLS = {"GetBlob": "blob", "GetManifest": "manifest"}


class _QueryCounter:
    """A connection.execute_wrapper that only counts."""

    __slots__ = ("count",)

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def _user(request) -> str:
    ctx = getattr(request, "registry_ctx", None)
    if ctx is not None:
        if ctx.claims:
            return ctx.claims.get("sub") or "-"
        user = ctx.user
    else:
        user = getattr(request, "user", None)
    # A lazy user nobody looked at stays unevaluated: the log costs no session query.
    if user is None or getattr(user, "_wrapped", None) is empty:
        return "-"
    if not getattr(user, "is_authenticated", False):
        return "-"
    return user.get_username()


class AccessLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.log_enabled = settings.ACCESS_LOG

    def __call__(self, request):
        started = time.perf_counter()
        queries = _QueryCounter()
        wrapped = connections.all(initialized_only=True)
        for connection in wrapped:
            connection.execute_wrappers.append(queries)
        # A connection opened during the request (the first of a thread) is counted too.
        default = connections["default"]
        if default not in wrapped:
            default.execute_wrappers.append(queries)
            wrapped.append(default)
        try:
            response = self.get_response(request)
        finally:
            for connection in wrapped:
                connection.execute_wrappers.remove(queries)
        if not response.streaming:
            self._record(request, response, started, len(response.content), queries.count)
            return response
        identifier = request_id()
        close = response.close
        recorded = []

        def close_and_record():
            try:
                close()
            finally:
                if not recorded:  # once, however often the server closes it
                    recorded.append(True)
                    sent = int(response.get("Content-Length") or 0)
                    self._record(request, response, started, sent, queries.count, identifier)

        response.close = close_and_record
        return response

    def _record(self, request, response, started, sent, query_count, identifier=None):
        duration = time.perf_counter() - started
        route = metrics.route_name(request)
        method = metrics.method_label(request.method)
        status = response.status_code
        status_label = str(status)
        requests, durations, db_queries = metrics.request_series(method, route, status_label)
        requests.inc()
        durations.observe(duration)
        db_queries.observe(query_count)
        if status in (200, 206) and route in _PULLS:
            metrics.bytes_pulled(_PULLS[route], sent)
        elif status == 201 and route == "PutManifest":
            metrics.bytes_pushed("manifest", int(request.META.get("CONTENT_LENGTH") or 0))
        if not self.log_enabled:
            return
        fields = {
            "method": request.method,
            "route": route,
            # Percent-encoded again: a decoded %0A must not start a forged line.
            "path": quote(request.path, safe="/:@!$&'()*+,;=-._~"),
            "status": status,
            "bytes": sent,
            "duration_ms": round(duration * 1000, 2),
            "user": _user(request),
            "client": client_ip(request),
            "db_queries": query_count,
        }
        message = "%s %s %s %dB %.1fms route=%s user=%s client=%s"
        arguments = [fields[key] for key in ("method", "path")]
        arguments += [status, sent, fields["duration_ms"], route, fields["user"], fields["client"]]
        ns = request.GET.get("ns") if request.path.startswith("/v2/") else None
        if ns:  # the upstream a containerd mirror request names: a host, never a secret
            fields["ns"] = quote(ns[:255], safe=":[]")
            message += " ns=%s"
            arguments.append(fields["ns"])
        extra = {"access": fields}
        if identifier is not None:
            extra["request_id"] = identifier  # a streamed body ends after the id was reset
        logger.info(message, *arguments, extra=extra)
