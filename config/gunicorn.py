"""gunicorn settings: threads so that long blob transfers never block short requests."""

import os
import socket

from gunicorn.workers.gthread import ThreadWorker

_host = os.environ.get("HOST", "127.0.0.1")
bind = (
    f"[{_host}]:{os.environ.get('PORT', '8000')}"
    if ":" in _host
    else f"{_host}:{os.environ.get('PORT', '8000')}"
)
workers = int(os.environ.get("WEB_WORKERS", "2"))
worker_class = "config.gunicorn.PlainHttpThreadWorker"
threads = int(os.environ.get("WEB_THREADS", "16"))
# A thread streaming a multi-gigabyte layer keeps its worker alive; this only reaps hung workers.
timeout = int(os.environ.get("WEB_TIMEOUT", "300"))
graceful_timeout = 30
keepalive = 5
accesslog = "-" if os.environ.get("ACCESS_LOG", "1") == "1" else None
certfile = os.environ.get("TLS_CERT") or None
keyfile = os.environ.get("TLS_KEY") or None
# gunicorn's own files (worker heartbeats, a unix socket) private, like everything in DATA_DIR.
umask = 0o077
# Registry uploads are large; never buffer a request body in gunicorn.
limit_request_line = 8190


def post_worker_init(worker):
    # Count manifest pulls in memory and write them once a second, not one write per GET.
    from registry_api.pulls import flusher_start

    flusher_start()


def worker_exit(server, worker):
    from registry_api.pulls import flusher_stop

    flusher_stop()  # write the pulls still buffered


# What Go's net/http answers to a TLS handshake on a plain-HTTP port.
_TLS_ON_PLAIN_HTTP = (
    b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"
)


class PlainHttpThreadWorker(ThreadWorker):
    """gthread, but a TLS ClientHello on a plain-HTTP port is refused at once.

    podman and skopeo with --tls-verify=false (and docker for some hosts) try HTTPS first and
    fall back to HTTP only when that fails. Plain gunicorn waits for a request line that never
    comes, so each of their commands stalled for the client's 10 s handshake timeout.
    """

    def enqueue_req(self, conn):
        if not self.cfg.is_ssl and not conn.initialized:
            try:
                # The poller said the socket is readable, so this never blocks.
                first = conn.sock.recv(1, socket.MSG_PEEK)
            except OSError:
                first = b""
            if first == b"\x16":  # TLS record type "handshake"
                try:
                    conn.sock.sendall(_TLS_ON_PLAIN_HTTP)
                    conn.sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        super().enqueue_req(conn)
