"""A pull-through cache following its upstream records each tag movement once, as "cache" with
no actor (nobody pushed); revalidating an unchanged tag records nothing."""

from __future__ import annotations

import pytest

from hub.models import Repository
from registry_api.models import TagEvent
from tests.mirror.test_manifests import ACCEPT, expire

pytestmark = pytest.mark.django_db


def test_cached_tag_movements_are_recorded_as_cache(client, fake_upstream, fake_cache):
    first = fake_upstream.manifest("tools/app", "1", [b"{}", b"first"])
    for _ in range(2):
        assert client.get("/v2/fake/tools/app/manifests/1", **ACCEPT).status_code == 200
    expire("fake/tools/app", "1")
    assert client.get("/v2/fake/tools/app/manifests/1", **ACCEPT).status_code == 200  # unchanged
    second = fake_upstream.manifest("tools/app", "1", [b"{}", b"second"])
    expire("fake/tools/app", "1")
    assert client.get("/v2/fake/tools/app/manifests/1", **ACCEPT)["Docker-Content-Digest"] == second

    repository = Repository.objects.get(namespace__name="fake", name="tools/app")
    events = TagEvent.objects.filter(repository=repository, tag="1").order_by("pk")
    assert list(events.values_list("action", "from_digest", "to_digest", "actor")) == [
        ("cache", "", first, None),
        ("cache", first, second, None),
    ]
