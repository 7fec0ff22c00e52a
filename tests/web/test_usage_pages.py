"""Storage usage on the repository page (for whoever sees the repository) and usage and quota
on the namespace page (for its owners, members and administrators only)."""

from __future__ import annotations

import pytest
from django.template.defaultfilters import filesizeformat

from registry_api.services.quotas import quota_set
from tests.registry_api.conftest import image_push

pytestmark = pytest.mark.django_db


@pytest.fixture
def pushed(client, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        image_push(client, "alice/app", "v1", layer=b"a" * 4000)
        image_push(client, "alice/app", "v2", layer=b"b" * 9000)
    return alice.namespace.repositories.get(name="app")


def test_the_repository_page_shows_logical_stored_and_exclusive_sizes(client, pushed):
    page = client.get("/r/alice/app/").content.decode()
    assert f'<dd class="usage-stored">{filesizeformat(pushed.stored_bytes)}</dd>' in page
    assert f'<dd class="usage-logical">{filesizeformat(pushed.logical_bytes)}</dd>' in page
    assert 'class="usage-exclusive"' in page


def test_the_namespace_page_shows_usage_and_quota_to_its_owner_only(client, pushed, alice, bob):
    quota_set(namespace=alice.namespace, limit_bytes=100000, actor=None)
    client.force_login(bob)
    assert "storage-usage" not in client.get("/u/alice/").content.decode()
    client.force_login(alice)
    page = client.get("/u/alice/").content.decode()
    assert "storage-usage" in page
    assert f'<dd class="usage-stored">{filesizeformat(pushed.stored_bytes)}</dd>' in page
    assert f'<dd class="usage-quota">{filesizeformat(100000)} <meter' in page
    assert 'value="13"' in page  # 13,050 of 100,000 bytes
