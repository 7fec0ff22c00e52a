"""deploy/grafana/dockyard.json queries only metrics a real /metrics scrape has."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from config import metrics
from tests.registry_api.conftest import bearer, image_push, pull_access

DASHBOARD = Path(__file__).resolve().parents[1] / "deploy" / "grafana" / "dockyard.json"
_HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def _queried_names() -> set[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    exprs += [v["query"] for v in dashboard["templating"]["list"] if v["type"] == "query"]
    return {name for expr in exprs for name in re.findall(r"\bdockyard_[a-z_]+\b", expr)}


def _scraped_names(text: str) -> set[str]:
    names = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            names |= {name + s for s in _HISTOGRAM_SUFFIXES} if kind == "histogram" else {name}
        elif line and not line.startswith("#"):
            names.add(re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group())
    return names


@pytest.mark.django_db
def test_every_metric_the_dashboard_queries_is_exposed(client, alice, public_repo):
    image_push(client, "alice/app", "v1")
    client.get("/v2/alice/app/manifests/v1", **bearer("alice", pull_access("alice/app")))
    metrics.rate_limit_hit("pull_anonymous")
    text = client.get("/metrics").content.decode()
    queried = _queried_names()
    assert len(queried) >= 15  # the dashboard was read, not an empty list
    assert queried - _scraped_names(text) == set()


def test_the_check_itself_catches_a_misspelt_name():
    assert "dockyard_http_request_total" not in _scraped_names(
        "# TYPE dockyard_http_requests_total counter\ndockyard_http_requests_total 1.0\n"
    )
