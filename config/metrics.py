"""Prometheus metrics: what is counted, route names, and the `/metrics` endpoint.

Every process that counts (gunicorn workers, their transfer processes, Celery workers) writes
its values to files in PROMETHEUS_MULTIPROC_DIR, one file set per process id (prometheus-client's
multiprocess mode); a scrape, served by any one gunicorn worker, adds them up. The start scripts
(scripts/embedded.sh) and config/gunicorn.py set the directory (DATA_DIR/metrics) and wipe it at
start. Without it (tests, runserver) values live in the process.

The directory must be in the environment before prometheus_client is imported: the library picks
its value store then. Hence the start scripts set it, not Django's settings.

Labels are bounded: routes are URL names (registry routes by operation, `GetManifest`), never
paths; methods outside the standard set are `OTHER`.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import logging
import os
import time
from contextlib import contextmanager

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
logger = logging.getLogger(__name__)

# From a 2 ms manifest GET to a minute-long blob transfer.
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

HTTP_REQUESTS = Counter(
    "dockyard_http_requests_total",
    "HTTP requests answered, by method, route (URL name or registry operation) and status.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "dockyard_http_request_duration_seconds",
    "Time from the request reaching Django to its response's last byte handed to the server.",
    ["route", "status"],
    buckets=_LATENCY_BUCKETS,
)
HTTP_DB_QUERIES = Histogram(
    "dockyard_http_request_db_queries",
    "Database queries one request made, by route.",
    ["route"],
    buckets=(0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89),
)
BYTES_PUSHED = Counter(
    "dockyard_registry_pushed_bytes_total",
    "Bytes received by the registry: blob upload chunks and manifests.",
    ["kind"],
)
BYTES_PULLED = Counter(
    "dockyard_registry_pulled_bytes_total",
    "Bytes served by the registry: blobs and manifests (not redirects to object storage).",
    ["kind"],
)
STORAGE_DURATION = Histogram(
    "dockyard_storage_operation_duration_seconds",
    "Blob store calls (for a stream: until it is open), by operation and backend.",
    ["operation", "backend"],
    buckets=_LATENCY_BUCKETS,
)
STORAGE_ERRORS = Counter(
    "dockyard_storage_operation_errors_total",
    "Blob store calls that failed (a missing blob is an answer, not an error).",
    ["operation", "backend"],
)
WEBHOOK_DELIVERIES = Counter(
    "dockyard_webhook_deliveries_total",
    "Webhook delivery attempts by outcome: delivered, retry (failed, tried again), failed.",
    ["outcome"],
)
WEBHOOK_QUEUE_LAG = Histogram(
    "dockyard_webhook_queue_lag_seconds",
    "From an attempt being due (the event, or the retry's time) to a worker starting it.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
)
GC_RUNS = Counter(
    "dockyard_gc_runs_total", "Garbage collection runs, by result (ok, error).", ["result"]
)
GC_BYTES_FREED = Counter("dockyard_gc_freed_bytes_total", "Bytes freed by garbage collection.")
GC_BLOBS_FREED = Counter("dockyard_gc_freed_blobs_total", "Blobs freed by garbage collection.")
RATE_LIMIT_HITS = Counter(
    "dockyard_rate_limit_hits_total", "Requests refused by a rate limit, by kind.", ["kind"]
)

LOOP_ANSWERS = Counter(
    "dockyard_http_loop_answers_total",
    "Short registry reads a worker's event loop answered itself, without a thread "
    "(config/http_worker.py), by whether the client took the answer at once or later.",
    ["sent"],
)

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# registry_api/urls.py's URL names by method: distribution's operation names.
_REGISTRY_OPERATIONS = {
    ("base", "GET"): "Base",
    ("base", "HEAD"): "Base",
    ("catalog", "GET"): "GetCatalog",
    ("tags", "GET"): "GetTags",
    ("manifest", "GET"): "GetManifest",
    ("manifest", "HEAD"): "HeadManifest",
    ("manifest", "PUT"): "PutManifest",
    ("manifest", "DELETE"): "DeleteManifest",
    ("blob", "GET"): "GetBlob",
    ("blob", "HEAD"): "HeadBlob",
    ("blob", "DELETE"): "DeleteBlob",
    ("upload-start", "POST"): "StartBlobUpload",
    ("upload", "GET"): "GetBlobUpload",
    ("upload", "PATCH"): "PatchBlobUpload",
    ("upload", "PUT"): "PutBlobUpload",
    ("upload", "DELETE"): "CancelBlobUpload",
    ("referrers", "GET"): "GetReferrers",
}


def method_label(method: str) -> str:
    return method if method in _METHODS else "OTHER"


def route_name(request) -> str:
    """The request's route: a registry operation, else the portal's URL name (or view path)."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unresolved"  # answered before URL resolution (a redirect to sign in, a 400)
    if match.app_name == "registry":
        if match.url_name == "not-found":
            return "NotFound"
        return _REGISTRY_OPERATIONS.get((match.url_name, request.method), "Unsupported")
    return match.view_name or "unnamed"


# Hooks for the rest of the code: one call each, cheap.


@functools.lru_cache(maxsize=4096)
def request_series(method: str, route: str, status: str) -> tuple:
    """The three per-request children for these labels. `.labels()` hashes and locks on every
    call; routes and statuses are few, so each combination is looked up once per process."""
    return (
        HTTP_REQUESTS.labels(method, route, status),
        HTTP_DURATION.labels(route, status),
        HTTP_DB_QUERIES.labels(route),
    )


def bytes_pushed(kind: str, size: int) -> None:
    if size > 0:
        BYTES_PUSHED.labels(kind).inc(size)


def bytes_pulled(kind: str, size: int) -> None:
    if size > 0:
        _pulled_series(kind).inc(size)  # kinds are few: each child looked up once


@functools.cache
def _pulled_series(kind: str):
    return BYTES_PULLED.labels(kind)


@functools.cache
def _loop_series(sent: str):
    return LOOP_ANSWERS.labels(sent)


def answered_in_loop(*, at_once: bool) -> None:
    _loop_series("at_once" if at_once else "later").inc()


def rate_limit_hit(kind: str) -> None:
    """A request refused by a rate limit (`kind`: e.g. "pull_anonymous", "pull_authenticated")."""
    RATE_LIMIT_HITS.labels(kind).inc()


def webhook_delivery(outcome: str) -> None:
    WEBHOOK_DELIVERIES.labels(outcome).inc()


def webhook_queue_lag(seconds: float) -> None:
    WEBHOOK_QUEUE_LAG.observe(max(0.0, seconds))


def gc_run_recorded(*, ok: bool, bytes_freed: int, blobs_freed: int) -> None:
    GC_RUNS.labels("ok" if ok else "error").inc()
    GC_BYTES_FREED.inc(bytes_freed)
    GC_BLOBS_FREED.inc(blobs_freed)


@contextmanager
def storage_timed(operation: str, backend: str, *, expected: tuple = (FileNotFoundError,)):
    started = time.perf_counter()
    try:
        yield
    except expected:
        raise
    except BaseException:
        STORAGE_ERRORS.labels(operation, backend).inc()
        raise
    finally:
        STORAGE_DURATION.labels(operation, backend).observe(time.perf_counter() - started)


# Scrape-time collectors.


class UploadsInProgress:
    """Open upload sessions, read from the database at scrape time (one COUNT)."""

    def collect(self):
        from registry_api.models import BlobUpload

        gauge = GaugeMetricFamily(
            "dockyard_registry_uploads_in_progress",
            "Blob upload sessions started and not yet completed, cancelled or expired.",
        )
        try:
            count = BlobUpload.objects.count()
        except DatabaseError as exc:  # the rest of the scrape still answers; /-/ready says why
            logger.warning("metrics: cannot count uploads: %s", exc)
            return
        gauge.add_metric([], count)
        yield gauge


def _registry() -> CollectorRegistry:
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return registry


_uploads = UploadsInProgress()


def scrape() -> bytes:
    registry = _registry()
    text = generate_latest(registry)
    extra = CollectorRegistry(auto_describe=False)
    extra.register(_uploads)
    return text + generate_latest(extra)


# Access: a bearer token, or (without one) loopback clients that came through no proxy.

_FORWARDING_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


def _loopback(request) -> bool:
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    if getattr(address, "ipv4_mapped", None):
        address = address.ipv4_mapped
    return address.is_loopback


def _allowed(request) -> tuple[bool, int]:
    token = settings.METRICS_TOKEN
    if token:
        scheme, _, offered = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        given = offered.strip().encode() if scheme.lower() == "bearer" else b""
        return hmac.compare_digest(given, token.encode()), 401
    # Behind a proxy on this host every client looks local: then (BEHIND_PROXY, or forwarding
    # headers) only a token opens it.
    proxied = any(request.META.get(name) for name in _FORWARDING_HEADERS)
    if proxied or getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        return False, 403
    return _loopback(request), 403


@csrf_exempt
def metrics_view(request):
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD"})
    allowed, status = _allowed(request)
    if not allowed:
        response = HttpResponse(
            "Set METRICS_TOKEN and send it as a Bearer token.\n"
            if status == 401
            else "Only loopback clients may read /metrics without METRICS_TOKEN.\n",
            status=status,
            content_type="text/plain",
        )
        if status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    response = HttpResponse(scrape(), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
