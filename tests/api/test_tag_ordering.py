"""The tags list sorts by last push (default), by name in natural order and by size: API and UI."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from registry_api.models import Tag
from registry_api.selectors.tag_ordering import natural_key
from tests.api.conftest import API, manifest_make

TAGS = f"{API}/repositories/alice/app/tags/"


@pytest.fixture
def thirty_tags(public_repo, alice):
    """v1 … v30; v1 pushed first, so the newest is v30; v(n) weighs n bytes × 10."""
    start = timezone.now() - timedelta(days=1)
    for n in range(1, 31):
        manifest = manifest_make(
            public_repo,
            {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "n": n},
            total_size=n * 10,
        )
        Tag.objects.create(
            repository=public_repo,
            name=f"v{n}",
            manifest=manifest,
            pushed_at=start + timedelta(minutes=n),
        )
    return public_repo


def _names(api, **params) -> list[str]:
    response = api.get(TAGS, {"page_size": 100, **params})
    assert response.status_code == 200, response.content
    return [tag["name"] for tag in response.json()["results"]]


def test_natural_key_orders_versions_like_people_do():
    names = ["v10", "v9", "1.0.0", "1.0.0-rc1", "v1.10.0", "v1.9.0", "latest", "1.0.0-rc10"]
    assert sorted(names, key=natural_key) == [
        "1.0.0-rc1", "1.0.0-rc10", "1.0.0", "latest", "v1.9.0", "v1.10.0", "v9", "v10",
    ]  # fmt: skip


def test_api_orderings(api, thirty_tags):
    expected = [f"v{n}" for n in range(30, 0, -1)]
    assert _names(api) == expected  # last pushed first
    assert _names(api, ordering="-name") == expected  # v30, v29 … v9, v8 …, not v9, v8 … v30, v3
    assert _names(api, ordering="name") == expected[::-1]
    assert _names(api, ordering="-size") == expected
    assert _names(api, ordering="size") == expected[::-1]
    assert _names(api, ordering="last_pushed") == expected[::-1]


def test_api_name_order_pages_and_filters(api, thirty_tags):
    first = api.get(TAGS, {"ordering": "-name", "page_size": 10}).json()
    assert [t["name"] for t in first["results"]] == [f"v{n}" for n in range(30, 20, -1)]
    assert first["count"] == 30
    assert _names(api, ordering="-name", name="2") == [
        "v29", "v28", "v27", "v26", "v25", "v24", "v23", "v22", "v21", "v20", "v12", "v2",
    ]  # fmt: skip


@pytest.mark.parametrize("ordering", ["pushed_at", "nonsense", "name;drop"])
def test_api_refuses_unknown_orderings(api, thirty_tags, ordering):
    response = api.get(TAGS, {"ordering": ordering})
    assert response.status_code == 400 and "ordering" in response.json()


def test_private_repository_tags_stay_hidden_whatever_the_ordering(api, private_repo):
    response = api.get(f"{API}/repositories/alice/secret/tags/", {"ordering": "-name"})
    assert response.status_code in (401, 404)


def test_page_sorts_by_name_and_keeps_filter_and_order_across_pages(client, thirty_tags):
    url = reverse("hub:repository-detail", args=["alice", "app"])
    page = client.get(url, {"ordering": "-name"})
    names = [row.tag.name for row in page.context["tags"]]
    assert names[:3] == ["v30", "v29", "v28"] and len(names) == 25
    html = page.content.decode()
    assert '<option value="-name" selected>' in html
    assert "?ordering=-name&amp;page=2#tags" in html
    filtered = client.get(url, {"ordering": "name", "tag": "1"})
    assert [row.tag.name for row in filtered.context["tags"]][:4] == ["v1", "v10", "v11", "v12"]
    # Unknown orderings fall back to the default on the page.
    fallback = client.get(url, {"ordering": "bogus"})
    assert [row.tag.name for row in fallback.context["tags"]][0] == "v30"
