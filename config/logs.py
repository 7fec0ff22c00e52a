"""LOG_FORMAT=json: one JSON object per line, for Django, gunicorn's error log and Celery."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from config.request_context import request_id


class JsonFormatter(logging.Formatter):
    """time, level, logger, message, request_id; an access line's fields; the exception and
    stack as strings. Nothing of the record's other attributes: they may hold a request."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            # gunicorn's and Celery's handlers have no RequestIdFilter: the context still knows.
            "request_id": getattr(record, "request_id", None) or request_id() or "-",
        }
        access = getattr(record, "access", None)
        if isinstance(access, dict):
            entry.update(access)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def gunicorn_logconfig() -> dict:
    """gunicorn's logconfig_dict for LOG_FORMAT=json: its error log as JSON lines on stderr,
    its access log off (config/access_log.py writes those lines)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "config.logs.JsonFormatter"}},
        "handlers": {
            "error_console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": "INFO", "handlers": ["error_console"]},
        "loggers": {
            # Not propagated: the worker's Django logging has its own root handler.
            "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
            "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
        },
    }
