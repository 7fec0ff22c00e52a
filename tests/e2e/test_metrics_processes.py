"""/metrics under real processes: `make run`'s gunicorn (two workers, each with its transfer
process) and Celery worker share one PROMETHEUS_MULTIPROC_DIR; a skopeo push and pull and a
webhook delivery (made by the Celery process) show in a scrape any worker answers. The same
server logs JSON lines (LOG_FORMAT=json) with one access line per request."""

from __future__ import annotations

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import PASSWORD
from tests.e2e.conftest import server_env
from tests.e2e.server import Server
from tests.e2e.tools import Skopeo
from tests.webhooks.receiver import Receiver

USER = "mia"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = server_env(tmp_path_factory, ACCESS_LOG="1", LOG_FORMAT="json", WEB_WORKERS="2")
    instance = Server(tmp_path_factory.mktemp("dockyard-metrics"), env=env).start()
    instance.create_user(USER, PASSWORD)
    yield instance
    instance.stop()


@pytest.fixture(scope="module")
def skopeo(tmp_path_factory):
    return Skopeo(tmp_path_factory.mktemp("skopeo-metrics"))


def scrape(server: Server) -> dict[tuple[str, tuple], float]:
    answer = requests.get(f"{server.url}/metrics", timeout=30)
    assert answer.status_code == 200, answer.text
    samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _writers(server: Server) -> dict[str, set[int]]:
    """The processes with value files in the metrics directory, by program."""
    pids = {
        int(match.group(1))
        for path in (server.data_dir / "metrics").glob("*.db")
        if (match := re.search(r"_(\d+)\.db$", path.name))
    }
    found: dict[str, set[int]] = {"gunicorn": set(), "celery": set()}
    for pid in pids:
        line = _cmdline(pid)
        for program in found:
            if program in line:
                found[program].add(pid)
    return found


def test_counters_move_across_two_workers_and_celery(server, skopeo, platform_images, tmp_path):
    before = scrape(server)
    receiver = Receiver()
    try:
        server.python(
            "from hub.models import Namespace\n"
            "from hub.services.repositories import repository_create\n"
            f"repository_create(namespace=Namespace.objects.get(name={USER!r}), name='app')\n"
        )
        hook = requests.post(
            f"{server.url}/api/v1/repositories/{USER}/app/webhooks/",
            json={"name": "ci", "url": receiver.url, "events": ["push"]},
            auth=(USER, PASSWORD),
            timeout=30,
        )
        assert hook.status_code == 201, hook.text
        _, oci_ref = platform_images[0]
        creds = f"{USER}:{PASSWORD}"
        skopeo.push(oci_ref, f"docker://{server.address}/{USER}/app:1", creds)
        skopeo(
            "copy",
            "--src-tls-verify=false",
            "--src-creds",
            creds,
            f"docker://{server.address}/{USER}/app:1",
            f"oci:{tmp_path / 'pulled'}:app",
        )
        receiver.wait_for(1, timeout=60)
    finally:
        receiver.close()
    # Many short requests at once, each on its own connection: both workers take some.
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda _: requests.get(f"{server.url}/v2/", timeout=30), range(64)))

    deadline = time.monotonic() + 30
    while True:  # the delivery is counted just after the receiver answered
        after = scrape(server)
        delivered = value(after, "dockyard_webhook_deliveries_total", outcome="delivered")
        if delivered > value(before, "dockyard_webhook_deliveries_total", outcome="delivered"):
            break
        assert time.monotonic() < deadline, "the Celery worker's delivery never showed"
        time.sleep(0.5)

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    requests_total = "dockyard_http_requests_total"
    assert moved(requests_total, method="PUT", route="PutManifest", status="201") == 1
    assert moved(requests_total, method="GET", route="GetManifest", status="200") >= 1
    assert moved(requests_total, method="GET", route="Base", status="401") >= 64
    # This server's only push: every stored blob came from it, each byte once.
    stored = int(
        server.python(
            "from django.db.models import Sum\n"
            "from registry_api.models import Blob\n"
            "print(Blob.objects.aggregate(total=Sum('size'))['total'])\n"
        ).split()[-1]
    )
    assert moved("dockyard_registry_pushed_bytes_total", kind="blob") == stored
    assert moved("dockyard_registry_pulled_bytes_total", kind="blob") >= stored
    assert moved("dockyard_registry_pushed_bytes_total", kind="manifest") > 0
    assert moved("dockyard_registry_pulled_bytes_total", kind="manifest") > 0
    assert moved("dockyard_webhook_queue_lag_seconds_count") >= 1
    assert moved("dockyard_storage_operation_duration_seconds_count",
                 operation="put", backend="filesystem") >= 2  # fmt: skip

    writers = _writers(server)
    assert len(writers["gunicorn"]) >= 2, writers  # two workers (and their transfer processes)
    assert len(writers["celery"]) >= 1, writers
    # Whichever worker answers, the totals are the sum over every process.
    again = scrape(server)
    assert value(again, requests_total, method="PUT", route="PutManifest", status="201") == (
        value(after, requests_total, method="PUT", route="PutManifest", status="201")
    )


def test_json_lines_and_one_access_line_per_request(server):
    marker = "/v2/no-such/thing/manifests/json-log-probe"
    answer = requests.get(server.url + marker, timeout=30)
    time.sleep(0.5)
    lines = [line for line in server.log().splitlines() if line.startswith("{")]
    entries = [json.loads(line) for line in lines]
    access = [entry for entry in entries if entry["logger"] == "dockyard.access"]
    [probe] = [entry for entry in access if entry["path"] == marker]
    assert probe["route"] == "GetManifest" and probe["status"] == answer.status_code
    assert probe["request_id"] == answer.headers["X-Request-Id"]
    assert {"time", "level", "message", "bytes", "duration_ms", "user", "client"} <= set(probe)
    # gunicorn's own error log is JSON too, and its access log is off (no duplicate line).
    assert any(entry["logger"] == "gunicorn.error" for entry in entries)
    assert f'"GET {marker} HTTP/1.1"' not in server.log()
    assert sum(marker in line for line in server.log().splitlines()) == 1
