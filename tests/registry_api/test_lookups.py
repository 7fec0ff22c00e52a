"""The /v2/ lookups remembered per process (registry_api.lookups) never outlive what they read:
a moved or deleted tag, a deleted manifest, a repository made private, deleted or moved, and a
change made by another process (its new token in the shared cache) are seen by the next GET."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from config import serving_hints
from hub.models import Namespace, Repository
from hub.services.repositories import repository_delete, repository_update
from registry_api import lookups
from registry_api.models import Manifest, Tag
from tests.conftest import basic_auth
from tests.registry_api.conftest import OCI_MANIFEST, bearer, image_push, pull_access

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader():
    return bearer("bob", pull_access("alice/app"))


@pytest.fixture
def first(client, public_repo):
    return image_push(client, "alice/app", "latest", b"first layer")


def served(client, reference: str, headers: dict, name: str = "alice/app"):
    return client.get(f"/v2/{name}/manifests/{reference}", **headers)


def test_a_moved_tag_is_served_at_its_new_digest(client, first, reader):
    assert served(client, "latest", reader)["Docker-Content-Digest"] == first
    second = image_push(client, "alice/app", "latest", b"second layer")
    assert second != first
    assert served(client, "latest", reader)["Docker-Content-Digest"] == second


def test_a_deleted_tag_is_not_found(client, first, reader):
    assert served(client, "latest", reader).status_code == 200
    delete_grant = [{"type": "repository", "name": "alice/app", "actions": ["delete"]}]
    assert (
        client.delete("/v2/alice/app/manifests/latest", **bearer("alice", delete_grant)).status_code
        == 202
    )

    answer = served(client, "latest", reader)
    assert answer.status_code == 404
    assert answer.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"
    assert served(client, first, reader).status_code == 200  # the manifest stays by digest


def test_a_deleted_manifest_is_gone_by_tag_and_by_digest(client, first, reader):
    assert served(client, "latest", reader).status_code == 200
    assert served(client, first, reader).status_code == 200
    delete_grant = [{"type": "repository", "name": "alice/app", "actions": ["delete"]}]
    answer = client.delete(f"/v2/alice/app/manifests/{first}", **bearer("alice", delete_grant))
    assert answer.status_code == 202

    assert served(client, "latest", reader).status_code == 404
    assert served(client, first, reader).status_code == 404


def test_a_repository_made_private_stops_serving_outsiders(client, first, public_repo, bob):
    outsider = {"HTTP_AUTHORIZATION": basic_auth("bob")}
    assert served(client, "latest", outsider).status_code == 200

    repository_update(repository=public_repo, is_private=True)

    answer = served(client, "latest", outsider)
    assert answer.status_code == 401
    assert answer.json()["errors"][0]["code"] == "UNAUTHORIZED"


def test_a_repository_made_private_in_the_admin_stops_serving_outsiders(
    client, first, public_repo, bob
):
    """The admin saves the row itself, past the hub services."""
    outsider = {"HTTP_AUTHORIZATION": basic_auth("bob")}
    assert served(client, "latest", outsider).status_code == 200
    public_repo.is_private = True
    public_repo.save()
    assert served(client, "latest", outsider).status_code == 401


def test_a_deleted_repository_is_unknown(client, first, public_repo, reader):
    assert served(client, "latest", reader).status_code == 200
    repository_delete(repository=public_repo)
    answer = served(client, "latest", reader)
    assert answer.status_code == 404
    assert answer.json()["errors"][0]["code"] == "NAME_UNKNOWN"


def test_a_repository_deleted_with_its_namespace_is_unknown(client, first, alice, reader):
    """Cascading deletes (a user removed in the admin) bypass every service."""
    assert served(client, "latest", reader).status_code == 200
    Namespace.objects.filter(pk=alice.namespace.pk).delete()
    assert not Repository.objects.filter(name="app").exists()
    assert served(client, "latest", reader).status_code == 404


def test_a_renamed_namespace_serves_its_repositories_under_the_new_name_only(client, first, alice):
    assert served(client, "latest", bearer("bob", pull_access("alice/app"))).status_code == 200
    namespace = Namespace.objects.get(pk=alice.namespace.pk)
    namespace.name = "alicia"
    namespace.save()

    old = served(client, "latest", bearer("bob", pull_access("alice/app")))
    assert old.status_code == 404
    new = served(client, "latest", bearer("bob", pull_access("alicia/app")), name="alicia/app")
    assert new.status_code == 200 and new["Docker-Content-Digest"] == first


def test_a_renamed_repository_is_served_under_its_new_name_only(client, first, public_repo):
    assert served(client, "latest", bearer("bob", pull_access("alice/app"))).status_code == 200
    public_repo.name = "renamed"
    public_repo.save()

    assert served(client, "latest", bearer("bob", pull_access("alice/app"))).status_code == 404
    new = served(client, "latest", bearer("bob", pull_access("alice/renamed")), "alice/renamed")
    assert new.status_code == 200 and new["Docker-Content-Digest"] == first


def _move_elsewhere(public_repo, layerless_digest: str) -> Manifest:
    """What another process's push wrote to the database (not through this process's memory)."""
    other = Manifest.objects.create(
        repository=public_repo,
        digest=layerless_digest,
        media_type=OCI_MANIFEST,
        payload=b'{"schemaVersion": 2}',
        size=20,
    )
    Tag.objects.filter(repository=public_repo, name="latest").update(manifest=other)
    return other


def test_another_process_s_change_is_seen_through_the_shared_token(
    client, first, public_repo, reader
):
    assert served(client, "latest", reader)["Docker-Content-Digest"] == first
    other = _move_elsewhere(public_repo, "sha256:" + "1" * 64)
    # That process replaced the repository's token in the shared cache.
    cache.set(lookups.repository_key(public_repo.pk), "set-by-another-process", timeout=None)
    assert served(client, "latest", reader)["Docker-Content-Digest"] == other.digest


def test_an_evicted_token_voids_what_was_remembered(client, first, public_repo, reader):
    assert served(client, "latest", reader)["Docker-Content-Digest"] == first
    other = _move_elsewhere(public_repo, "sha256:" + "2" * 64)
    cache.delete(lookups.repository_key(public_repo.pk))
    assert served(client, "latest", reader)["Docker-Content-Digest"] == other.digest


def test_a_manifest_get_reads_the_shared_cache_once(
    client, first, public_repo, reader, monkeypatch
):
    assert served(client, "latest", reader).status_code == 200  # remembered from now on
    round_trips = []
    get_many = cache.get_many
    monkeypatch.setattr(cache, "get_many", lambda keys: round_trips.append(keys) or get_many(keys))
    assert served(client, "latest", reader)["Docker-Content-Digest"] == first
    assert round_trips == [[lookups.NAMES_KEY, lookups.repository_key(public_repo.pk)]]


def test_a_request_keeps_the_tokens_it_read_until_it_ends(public_repo):
    key = lookups.repository_key(public_repo.pk)
    with lookups.request_snapshot():
        (read,) = lookups.tokens([key])
        cache.set(key, "set-by-another-process", timeout=None)
        assert lookups.tokens([key]) == (read,)  # one request, one view of the tokens
    assert lookups.tokens([key]) == ("set-by-another-process",)


def test_a_request_reads_fresh_tokens_after_its_own_write(public_repo):
    key = lookups.repository_key(public_repo.pk)
    with lookups.request_snapshot():
        (before,) = lookups.tokens([key])
        lookups.repository_changed(repository_id=public_repo.pk)
        (after,) = lookups.tokens([key])
    assert after != before
    assert after == cache.get(key)


def test_outside_a_request_only_the_asked_tokens_are_read(public_repo, monkeypatch):
    round_trips = []
    get_many = cache.get_many
    monkeypatch.setattr(cache, "get_many", lambda keys: round_trips.append(keys) or get_many(keys))
    lookups.tokens([lookups.NAMES_KEY], also=[lookups.repository_key(public_repo.pk)])
    assert round_trips == [[lookups.NAMES_KEY]]  # nothing would keep the other one
    assert cache.get(lookups.repository_key(public_repo.pk)) is None  # nor was it started


def test_each_remembered_answer_is_a_copy_of_its_own(public_repo):
    """Callers load relations onto (and may change) what they get; nobody else sees that."""
    key, current = ("test", public_repo.pk), lookups.tokens([lookups.NAMES_KEY])
    lookups.remember(key, current, Repository.objects.get(pk=public_repo.pk))

    first = lookups.remembered(key, current)
    assert first.namespace.name == "alice"  # loaded onto this copy
    first.description = "changed by one request"

    second = lookups.remembered(key, current)
    assert second is not first and second.description == public_repo.description
    assert "namespace" not in second._state.fields_cache
    assert second._state.db == "default" and not second._state.adding
    second.description = "saved"
    second.save(update_fields=["description"])  # a real row, saved as an update
    assert Repository.objects.get(pk=public_repo.pk).description == "saved"


def test_a_local_manifest_get_may_be_answered_in_the_serving_loop(client, first, reader):
    serving_hints.begin()
    assert served(client, "latest", reader).status_code == 200
    assert not serving_hints.waited_on_network()
