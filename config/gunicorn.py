"""gunicorn settings: threads so that long blob transfers never block short requests."""

import os
import sys
import time
from pathlib import Path

from config import serving
from config.env import read_env

read_env()  # HOST, PORT, TLS_CERT… from the project's .env too, as settings see them
_host, _port = serving.bind_host(), serving.bind_port()
bind = f"{serving.host_in_url(_host)}:{_port}"
workers = int(os.environ.get("WEB_WORKERS", "2"))
# gthread whose event loop reads a request's head (and a body's start) before a thread takes it,
# under deadlines: a slow client costs a buffer, not a thread (docs/architecture.md, "Serving
# model: slow clients"; WEB_HEADER_TIMEOUT, WEB_IDLE_TIMEOUT, WEB_BODY_* in .env.example).
worker_class = "config.http_worker.ReadAheadThreadWorker"
threads = int(os.environ.get("WEB_THREADS", "16"))
# Connections per worker, slow or not (each costs at most ~130 KiB of buffers in the loop).
worker_connections = int(os.environ.get("WEB_CONNECTIONS", "1000"))
# A thread streaming a multi-gigabyte layer keeps its worker alive; this only reaps hung workers.
timeout = int(os.environ.get("WEB_TIMEOUT", "300"))
graceful_timeout = 30
keepalive = int(os.environ.get("WEB_KEEPALIVE") or 5)  # idle seconds; 0: no keep-alive
# No gunicorn access log: config/access_log.py writes one line per request (ACCESS_LOG) with
# the route, user and request id, in LOG_FORMAT.
accesslog = None
if os.environ.get("LOG_FORMAT", "text") == "json":
    from config.logs import gunicorn_logconfig

    logconfig_dict = gunicorn_logconfig()
certfile = os.environ.get("TLS_CERT") or None
keyfile = os.environ.get("TLS_KEY") or None
# gunicorn's own files (worker heartbeats, a unix socket) private, like everything in DATA_DIR.
umask = 0o077
# Registry uploads are large; never buffer a request body in gunicorn.
limit_request_line = 8190


# Metrics from every worker (and its transfer process) in files under one directory, which
# any worker's /metrics adds up (config/metrics.py). Set before a worker imports the
# application, so prometheus_client picks its multiprocess store. scripts/embedded.sh sets and
# wipes it when it starts gunicorn with a Celery worker (which shares it); alone, gunicorn does.
_METRICS_DIR_SET_HERE = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _METRICS_DIR_SET_HERE:
    _data_dir = Path(__file__).resolve().parent.parent / os.environ.get("DATA_DIR", "var")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(_data_dir / "metrics")


def on_starting(server):
    if _METRICS_DIR_SET_HERE:
        from config.metrics_files import multiproc_dir_wipe

        multiproc_dir_wipe(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    # gunicorn retries a taken port for 5 s and exits 1, and the supervisor would start it again
    # and again: say why once, and exit with the status that stops the whole group. The same
    # 5 s first: after its master was killed, the old workers hold the port for a moment.
    deadline = time.monotonic() + 5
    while problem := serving.cannot_listen(_host, _port):
        if time.monotonic() > deadline:
            print(problem, file=sys.stderr, flush=True)
            sys.exit(serving.EXIT_CANNOT_SERVE)
        time.sleep(0.25)


# One byte for the first worker that has loaded the application: it announces the URL, so the
# line appears once the port answers requests (and never when the application cannot load).
_announce_read, _announce_write = -1, -1


def when_ready(server):
    global _announce_read, _announce_write
    _announce_read, _announce_write = os.pipe()
    os.set_blocking(_announce_read, False)
    os.write(_announce_write, b"!")


def post_worker_init(worker):
    if getattr(worker, "role", "front") != "front":
        return  # a worker's transfer process (config/http_worker.py) counts no pulls
    # Count manifest pulls in memory and write them once a second, not one write per GET.
    from registry_api.pulls import flusher_start

    flusher_start()
    try:
        first = os.read(_announce_read, 1)
    except OSError:  # another worker took the byte (or it is a later restart)
        first = b""
    if first:
        host, port = worker.sockets[0].getsockname()[:2]
        message = serving.ready_message(
            host, port, tls=worker.cfg.is_ssl, site_url=os.environ.get("SITE_URL", "")
        )
        print(message, flush=True)


def worker_exit(server, worker):
    from registry_api.pulls import flusher_stop

    flusher_stop()  # write the pulls still buffered


def child_exit(server, worker):
    from config.metrics_files import process_dead

    process_dead(worker.pid)
