"""The current request's id: minted (or taken from a trusted proxy) once per request, returned
as X-Request-Id, put on every log line and on every audit entry recorded while it runs.

A context variable rather than a thread local, so a Celery task or a streamed response body
running after the view returned never reads another request's id.
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid

HEADER = "X-Request-Id"
# An incoming id is kept only when it looks like one (a proxy's, e.g. nginx $request_id): it
# lands in logs and the audit log, so nothing a client can use to forge lines or inject markup.
_INCOMING_RE = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


def request_id() -> str:
    """The id of the request being served, or "" outside one (a task, a management command)."""
    return _request_id.get()


def request_id_set(value: str) -> contextvars.Token:
    return _request_id.set(value)


def request_id_reset(token: contextvars.Token) -> None:
    _request_id.reset(token)


def _incoming(request) -> str:
    value = request.META.get("HTTP_X_REQUEST_ID", "")
    return value if _INCOMING_RE.match(value) else ""


class RequestIdMiddleware:
    """First in the stack: every later middleware, view and log line sees the id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        value = _incoming(request) or uuid.uuid4().hex
        request.request_id = value
        token = request_id_set(value)
        try:
            response = self.get_response(request)
        finally:
            request_id_reset(token)
        response[HEADER] = value
        return response


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (settings.LOGGING), "-" outside a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = request_id() or "-"
        return True
