"""GET .../tags/{tag}/history/ and POST .../tags/{tag}/restore/ over the REST API."""

from __future__ import annotations

import pytest

from registry_api.models import Manifest, Tag
from registry_api.services.manifests import manifest_delete
from tests import factories
from tests.api.conftest import API
from tests.registry_api.conftest import image_push

pytestmark = pytest.mark.django_db

APP = f"{API}/repositories/alice/app/tags"
SECRET = f"{API}/repositories/alice/secret/tags"


@pytest.fixture
def moved(client, public_repo):
    """alice/app:app pushed as image A, then as image B; returns (A, B)."""
    return (
        image_push(client, "alice/app", "app", layer=b"image A"),
        image_push(client, "alice/app", "app", layer=b"image B"),
    )


def test_history_lists_movements_newest_first(as_user, alice, moved):
    first, second = moved
    answer = as_user(alice).get(f"{APP}/app/history/")
    assert answer.status_code == 200
    assert answer.data["count"] == 2
    rows = [
        (row["action"], row["from_digest"], row["to_digest"], row["actor"], row["restorable"])
        for row in answer.data["results"]
    ]
    assert rows == [("push", first, second, "alice", False), ("push", "", first, "alice", True)]
    assert answer.data["results"][1]["digest"] == first


def test_history_is_paginated(as_user, alice, client, public_repo):
    for number in range(3):
        image_push(client, "alice/app", "app", layer=b"layer %d" % number)
    answer = as_user(alice).get(f"{APP}/app/history/?page_size=2")
    assert answer.data["count"] == 3 and len(answer.data["results"]) == 2
    assert answer.data["next"]


def test_restore_moves_the_tag_back(as_user, bob, moved, public_repo):
    factories.CollaboratorFactory(repository=public_repo, user=bob, role="write")
    first, second = moved
    answer = as_user(bob).post(f"{APP}/app/restore/", {"digest": first}, format="json")
    assert answer.status_code == 201, answer.data
    assert answer.data["digest"] == first and answer.data["name"] == "app"
    again = as_user(bob).post(f"{APP}/app/restore/", {"digest": first}, format="json")
    assert again.status_code == 200
    top = as_user(bob).get(f"{APP}/app/history/").data["results"][0]
    assert (top["action"], top["from_digest"], top["to_digest"], top["actor"]) == (
        "restore",
        second,
        first,
        "bob",
    )


def test_a_deleted_tag_keeps_its_history_and_is_restored(as_user, alice, client, public_repo):
    digest = image_push(client, "alice/app", "gone")
    manifest_delete(manifest=Manifest.objects.get(digest=digest), actor=alice)
    api = as_user(alice)
    assert api.get(f"{APP}/gone/").status_code == 404
    history = api.get(f"{APP}/gone/history/")
    assert history.status_code == 200
    assert [(r["action"], r["digest"], r["restorable"]) for r in history.data["results"]] == [
        ("delete", digest, True),
        ("push", digest, True),
    ]
    answer = api.post(f"{APP}/gone/restore/", {"digest": digest}, format="json")
    assert answer.status_code == 201
    assert Tag.objects.get(repository=public_repo, name="gone").manifest.digest == digest


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"digest": "sha256:short"},
        {"digest": "x" * 500},
        {"digest": "sha256:" + "0" * 64},  # never in this tag's history
    ],
)
def test_bad_or_foreign_digests_are_validation_errors(as_user, alice, moved, body):
    answer = as_user(alice).post(f"{APP}/app/restore/", body, format="json")
    assert answer.status_code == 400
    assert Tag.objects.get(name="app").manifest.digest == moved[1]


def test_another_tags_digest_is_not_restorable(as_user, alice, client, moved):
    other = image_push(client, "alice/app", "other", layer=b"other")
    answer = as_user(alice).post(f"{APP}/app/restore/", {"digest": other}, format="json")
    assert answer.status_code == 400
    assert "history" in answer.data["non_field_errors"][0]


def test_unknown_tag_history_is_404(as_user, alice, public_repo):
    assert as_user(alice).get(f"{APP}/never/history/").status_code == 404


@pytest.mark.parametrize(
    ("caller", "history", "restore"),
    [
        ("owner", 200, 201),
        ("admin", 200, 201),
        ("write", 200, 201),
        ("read", 200, 403),
        ("narrow", 200, 403),
        ("outsider", 404, 404),
        ("anonymous", 404, 404),
    ],
)
def test_permissions_follow_pull_and_push(
    client_for, client, private_repo, caller, history, restore
):
    first = image_push(client, "alice/secret", "v1", layer=b"a")
    image_push(client, "alice/secret", "v1", layer=b"b")
    api = client_for(caller)
    assert api.get(f"{SECRET}/v1/history/").status_code == history
    answer = api.post(f"{SECRET}/v1/restore/", {"digest": first}, format="json")
    assert answer.status_code == restore
    if restore == 404:
        assert answer.data["detail"] == "Repository not found."  # same as an absent repository
    moved = Tag.objects.get(repository=private_repo, name="v1").manifest.digest == first
    assert moved == (restore == 201)


def test_schema_documents_history_and_restore(api):
    schema = api.get(f"{API}/schema/?format=json").json()
    paths = schema["paths"]
    history = paths["/api/v1/repositories/{namespace}/{name}/tags/{tag}/history/"]
    restore = paths["/api/v1/repositories/{namespace}/{name}/tags/{tag}/restore/"]
    assert history["get"]["operationId"] == "tags_history"
    assert restore["post"]["operationId"] == "tags_restore"
    assert set(restore["post"]["responses"]) >= {"200", "201", "400", "403", "404"}


@pytest.mark.parametrize("tag", ["%00", "bad%00tag", "-lead", "x" * 129])
def test_impossible_tag_names_are_404_or_400(as_user, alice, public_repo, tag):
    api = as_user(alice)
    assert api.get(f"{APP}/{tag}/history/").status_code == 404
    answer = api.post(f"{APP}/{tag}/restore/", {"digest": "sha256:" + "0" * 64}, format="json")
    assert answer.status_code in (400, 404)
