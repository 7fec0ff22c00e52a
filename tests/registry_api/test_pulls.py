"""Pull counting (registry_api.pulls) and the /v2/ gate's fast path for manifest GETs.

Serving processes (gunicorn workers, config/gunicorn.py) buffer pulls and flush them; every
other process, like these tests' client, writes each pull at once.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hub.models import Repository
from registry_api import lookups, pulls
from registry_api.models import Tag
from tests.registry_api.conftest import bearer, image_push, pull_access


@pytest.fixture
def pushed(client, public_repo):
    return image_push(client, "alice/app", "latest")


@pytest.fixture
def reader():
    return bearer("bob", pull_access("alice/app"))


@pytest.fixture
def buffered(settings):
    """Buffer pulls as a gunicorn worker does; the thread's timer never fires during a test."""
    settings.REGISTRY_PULLS_FLUSH_SECONDS = 3600
    assert pulls.flusher_start()
    yield
    pulls.flusher_stop()
    assert not pulls.buffering()


def _pull_count(repository) -> int:
    return Repository.objects.values_list("pull_count", flat=True).get(pk=repository.pk)


def test_without_a_flusher_each_get_is_written_at_once(client, public_repo, pushed, reader):
    assert not pulls.buffering()
    for _ in range(3):
        assert client.get("/v2/alice/app/manifests/latest", **reader).status_code == 200
    assert _pull_count(public_repo) == 3
    assert Tag.objects.get(repository=public_repo, name="latest").pull_count == 3


def test_buffered_gets_write_nothing_until_the_flush(client, public_repo, pushed, reader, buffered):
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            assert client.get("/v2/alice/app/manifests/latest", **reader).status_code == 200
        assert client.get(f"/v2/alice/app/manifests/{pushed}", **reader).status_code == 200
    assert not [q for q in queries.captured_queries if not q["sql"].startswith("SELECT")]
    assert _pull_count(public_repo) == 0
    assert Tag.objects.get(repository=public_repo, name="latest").last_pulled_at is None

    assert pulls.pulls_flush() == 4
    assert _pull_count(public_repo) == 4
    latest = Tag.objects.get(repository=public_repo, name="latest")
    assert latest.last_pulled_at is not None
    assert latest.pull_count == 3  # by name; the pull by digest counts for the repository only
    assert pulls.pulls_flush() == 0
    assert _pull_count(public_repo) == 4


def test_head_and_not_modified_are_no_pulls(client, public_repo, pushed, reader, buffered):
    assert client.head("/v2/alice/app/manifests/latest", **reader).status_code == 200
    cached = client.get(
        "/v2/alice/app/manifests/latest", HTTP_IF_NONE_MATCH=f'"{pushed}"', **reader
    )
    assert cached.status_code == 304
    assert pulls.pulls_flush() == 0


def test_flusher_stop_writes_what_is_buffered(client, public_repo, pushed, reader, settings):
    settings.REGISTRY_PULLS_FLUSH_SECONDS = 3600
    pulls.flusher_start()
    client.get("/v2/alice/app/manifests/latest", **reader)
    client.get("/v2/alice/app/manifests/latest", **reader)
    pulls.flusher_stop()  # what a gunicorn worker does when it exits
    assert _pull_count(public_repo) == 2
    assert not pulls.buffering()


def test_flush_never_moves_last_pulled_back(client, public_repo, pushed, reader, buffered):
    client.get("/v2/alice/app/manifests/latest", **reader)
    later = timezone.now() + timedelta(minutes=5)  # another process flushed a later pull
    Tag.objects.filter(repository=public_repo, name="latest").update(last_pulled_at=later)
    pulls.pulls_flush()
    assert Tag.objects.get(repository=public_repo, name="latest").last_pulled_at == later
    assert _pull_count(public_repo) == 1


def test_counts_are_per_repository(client, public_repo, private_repo, pushed, buffered):
    image_push(client, "alice/secret", "v1")
    client.get("/v2/alice/app/manifests/latest", **bearer("bob", pull_access("alice/app")))
    client.get("/v2/alice/secret/manifests/v1", **bearer("bob", pull_access("alice/secret")))
    client.get("/v2/alice/secret/manifests/v1", **bearer("bob", pull_access("alice/secret")))
    pulls.pulls_flush()
    assert _pull_count(public_repo) == 1
    assert _pull_count(private_repo) == 2


def test_refused_and_missing_gets_count_nothing(client, private_repo, buffered):
    image_push(client, "alice/secret", "v1")
    no_grant = bearer("dave", pull_access("alice/app"))
    assert client.get("/v2/alice/secret/manifests/v1", **no_grant).status_code == 401
    missing = client.get(
        "/v2/alice/secret/manifests/nope", **bearer("alice", pull_access("alice/secret"))
    )
    assert missing.status_code == 404
    assert pulls.pulls_flush() == 0


def test_a_manifest_get_reads_three_rows_cold_and_none_warm(
    client, public_repo, pushed, reader, buffered
):
    """Cold: the gate's repository, the manifest by tag and the repository's scan pull policy;
    no user, namespace or token query. Warm: all three are remembered."""
    client.get("/v2/alice/app/manifests/latest", **reader)  # warm: the token is verified once
    lookups.forget_all()  # a worker that has not resolved this name yet
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/v2/alice/app/manifests/latest", **reader).status_code == 200
    tables = [q["sql"].split(" FROM ")[1].split()[0] for q in queries.captured_queries]
    assert tables == ['"hub_repository"', '"registry_api_manifest"', '"scanning_scanpolicy"']
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/v2/alice/app/manifests/latest", **reader).status_code == 200
    assert [q["sql"] for q in queries.captured_queries] == []


def test_a_repeated_manifest_get_reads_no_rows(client, public_repo, pushed, reader, buffered):
    """Name -> repository and tag -> manifest are remembered while their tokens hold."""
    client.get("/v2/alice/app/manifests/latest", **reader)
    with CaptureQueriesContext(connection) as queries:
        answer = client.get("/v2/alice/app/manifests/latest", **reader)
    assert answer.status_code == 200 and answer["Docker-Content-Digest"] == pushed
    assert queries.captured_queries == []


def test_a_remembered_token_still_expires(client, public_repo, pushed, settings):
    settings.TOKEN_EXPIRES_IN = -8  # exp 8 s ago: valid for the 10 s leeway, then no more
    headers = bearer("bob", pull_access("alice/app"))
    assert client.get("/v2/alice/app/manifests/latest", **headers).status_code == 200
    time.sleep(2.2)
    answer = client.get("/v2/alice/app/manifests/latest", **headers)
    assert answer.status_code == 401
    assert 'error="invalid_token"' in answer["WWW-Authenticate"]


@pytest.mark.django_db(transaction=True)
def test_the_flusher_thread_writes_within_its_interval(
    client, public_repo, pushed, reader, settings
):
    settings.REGISTRY_PULLS_FLUSH_SECONDS = 1
    pulls.flusher_start()
    try:
        for _ in range(5):
            assert client.get("/v2/alice/app/manifests/latest", **reader).status_code == 200
        deadline = time.monotonic() + 10
        while _pull_count(public_repo) < 5 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _pull_count(public_repo) == 5
    finally:
        pulls.flusher_stop()
    assert _pull_count(public_repo) == 5
