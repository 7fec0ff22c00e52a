"""gunicorn settings: threads so that long blob transfers never block short requests."""

import os

_host = os.environ.get("HOST", "127.0.0.1")
bind = (
    f"[{_host}]:{os.environ.get('PORT', '8000')}"
    if ":" in _host
    else f"{_host}:{os.environ.get('PORT', '8000')}"
)
workers = int(os.environ.get("WEB_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "16"))
# A thread streaming a multi-gigabyte layer keeps its worker alive; this only reaps hung workers.
timeout = int(os.environ.get("WEB_TIMEOUT", "300"))
graceful_timeout = 30
keepalive = 5
accesslog = "-" if os.environ.get("ACCESS_LOG", "1") == "1" else None
certfile = os.environ.get("TLS_CERT") or None
keyfile = os.environ.get("TLS_KEY") or None
# Registry uploads are large; never buffer a request body in gunicorn.
limit_request_line = 8190
