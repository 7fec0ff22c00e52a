"""/metrics: who may read it, and that a push, a pull, storage, webhooks, GC and rate limits
move its numbers (in-process here; tests/e2e/test_metrics_processes.py runs the multi-process
case under gunicorn and Celery)."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from config import metrics
from registry_api.digests import digest_bytes
from tests.registry_api.conftest import bearer, image_push, pull_access

TOKEN = "s3cret-metrics-token"
pytestmark = pytest.mark.django_db  # the uploads gauge is read from the database


def scrape(client, **headers) -> dict[tuple[str, tuple], float]:
    answer = client.get("/metrics", **headers)
    assert answer.status_code == 200, answer.content
    assert answer["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(answer.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_loopback_reads_it_without_a_token(client):
    assert client.get("/metrics").status_code == 200


def test_a_remote_client_is_refused_without_a_token(client):
    answer = client.get("/metrics", REMOTE_ADDR="203.0.113.9")
    assert answer.status_code == 403
    assert b"dockyard_" not in answer.content


def test_a_forwarded_request_is_refused_even_from_loopback(client):
    # A reverse proxy on this host: every client would look like 127.0.0.1.
    answer = client.get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert answer.status_code == 403


def test_behind_proxy_loopback_is_not_enough(client, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert client.get("/metrics").status_code == 403


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}"],
)
def test_with_a_token_nothing_else_opens_it(client, settings, authorization):
    settings.METRICS_TOKEN = TOKEN
    answer = client.get("/metrics", HTTP_AUTHORIZATION=authorization)
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"].startswith("Bearer")
    assert b"dockyard_" not in answer.content


def test_with_a_token_it_opens_from_anywhere(client, settings):
    settings.METRICS_TOKEN = TOKEN
    samples = scrape(client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}", REMOTE_ADDR="203.0.113.9")
    assert ("dockyard_registry_uploads_in_progress", ()) in samples


def test_only_get_and_head(client):
    assert client.post("/metrics").status_code == 405


def test_a_push_and_a_pull_move_the_counters(client, alice, public_repo):
    before = scrape(client)
    layer = b"layer bytes " * 100
    image_push(client, "alice/app", "v1", layer=layer)
    headers = bearer("alice", pull_access("alice/app"))
    manifest = client.get(
        "/v2/alice/app/manifests/v1",
        HTTP_ACCEPT="application/vnd.oci.image.manifest.v1+json",
        **headers,
    )
    assert manifest.status_code == 200
    blob = client.get(f"/v2/alice/app/blobs/{digest_bytes(layer)}", **headers)
    assert blob.status_code == 200
    assert b"".join(blob.streaming_content) == layer
    assert client.head("/v2/alice/app/manifests/v1", **headers).status_code == 200
    after = scrape(client)

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    requests = "dockyard_http_requests_total"
    assert moved(requests, method="PUT", route="PutManifest", status="201") == 1
    assert moved(requests, method="GET", route="GetManifest", status="200") == 1
    assert moved(requests, method="HEAD", route="HeadManifest", status="200") == 1
    assert moved(requests, method="GET", route="GetBlob", status="200") == 1
    assert moved(requests, method="POST", route="StartBlobUpload", status="202") == 2
    assert moved(requests, method="PUT", route="PutBlobUpload", status="201") == 2
    config_size = len(b'{"architecture": "amd64"}')
    assert moved("dockyard_registry_pushed_bytes_total", kind="blob") == len(layer) + config_size
    # The manifest served is the one pushed, byte for byte.
    assert moved("dockyard_registry_pushed_bytes_total", kind="manifest") == len(manifest.content)
    assert moved("dockyard_registry_pulled_bytes_total", kind="blob") == len(layer)
    assert moved("dockyard_registry_pulled_bytes_total", kind="manifest") == len(manifest.content)
    duration = "dockyard_http_request_duration_seconds_count"
    assert moved(duration, route="GetManifest", status="200") == 1
    queries = "dockyard_http_request_db_queries_count"
    assert moved(queries, route="GetManifest") == 1
    assert moved("dockyard_http_request_db_queries_sum", route="GetManifest") >= 1
    storage = "dockyard_storage_operation_duration_seconds_count"
    assert moved(storage, operation="put", backend="filesystem") == 2
    assert moved(storage, operation="open", backend="filesystem") >= 1


def test_raw_paths_never_become_labels(client):
    for path in ("/v2/a/b/c/manifests/x", "/no/such/page/123", "/v2/x/blobs/uploads/abc"):
        client.get(path)
    client.generic("BREW", "/v2/")
    text = client.get("/metrics").content.decode()
    for fragment in ("a/b/c", "/no/such", "abc", "BREW"):
        assert fragment not in text
    assert 'method="OTHER"' in text


def test_uploads_in_progress_is_read_at_scrape_time(client, alice, public_repo):
    headers = bearer("alice", [{"type": "repository", "name": "alice/app", "actions": ["push"]}])
    before = value(scrape(client), "dockyard_registry_uploads_in_progress")
    assert client.post("/v2/alice/app/blobs/uploads/", **headers).status_code == 202
    assert value(scrape(client), "dockyard_registry_uploads_in_progress") == before + 1


def test_a_storage_failure_is_counted(client, settings, tmp_path):
    from registry_api import storage

    before = value(scrape(client), "dockyard_storage_operation_errors_total",
                   operation="put", backend="filesystem")  # fmt: skip
    with pytest.raises(OSError):
        storage.blobs().put_verified("sha256:" + "1" * 64, tmp_path / "no-such-file")
    after = value(scrape(client), "dockyard_storage_operation_errors_total",
                  operation="put", backend="filesystem")  # fmt: skip
    assert after == before + 1
    # A missing blob is an answer, not an error.
    with pytest.raises(FileNotFoundError):
        storage.blobs().open("sha256:" + "2" * 64)
    assert value(scrape(client), "dockyard_storage_operation_errors_total",
                 operation="open", backend="filesystem") == 0  # fmt: skip


def test_gc_runs_and_bytes_freed(client, alice, public_repo):
    from registry_api.services.gc import gc_run

    before = scrape(client)
    run = gc_run(trigger="manual", grace_seconds=0, upload_seconds=0)
    after = scrape(client)
    result = "error" if run.errors else "ok"
    assert value(after, "dockyard_gc_runs_total", result=result) == (
        value(before, "dockyard_gc_runs_total", result=result) + 1
    )
    assert (
        value(after, "dockyard_gc_freed_bytes_total")
        - value(before, "dockyard_gc_freed_bytes_total")
        == run.bytes_freed
    )


def test_rate_limit_hits(client):
    before = value(scrape(client), "dockyard_rate_limit_hits_total", kind="pull_anonymous")
    metrics.rate_limit_hit("pull_anonymous")
    after = value(scrape(client), "dockyard_rate_limit_hits_total", kind="pull_anonymous")
    assert after == before + 1


def test_webhook_deliveries_by_outcome_and_queue_lag(
    client, settings, public_repo, alice, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True  # the receiver is on loopback
    from tests.webhooks.receiver import Receiver
    from webhooks.services.events import event_publish
    from webhooks.services.hooks import webhook_create

    receiver = Receiver()
    try:
        webhook_create(
            repository=public_repo, actor=alice, name="ci", url=receiver.url, events=["push"]
        )
        before = scrape(client)
        with django_capture_on_commit_callbacks(execute=True):
            event_publish(action="push", repository=public_repo, actor=alice, data={"tag": "v1"})
        receiver.wait_for(1)
    finally:
        receiver.close()
    after = scrape(client)
    delivered = "dockyard_webhook_deliveries_total"
    assert value(after, delivered, outcome="delivered") == (
        value(before, delivered, outcome="delivered") + 1
    )
    lag = "dockyard_webhook_queue_lag_seconds_count"
    assert value(after, lag) == value(before, lag) + 1
