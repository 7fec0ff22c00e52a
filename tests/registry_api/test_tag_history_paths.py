"""Every way a tag moves is in its history exactly once: /v2/ pushes and deletes (by tag and by
digest), the UI and REST API deletes, import_registry and restore."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from registry_api.models import TagEvent
from registry_api.services.restore import tag_restore
from tests.conftest import basic_auth
from tests.registry_api.conftest import bearer, image_push
from tests.registry_api.test_import_registry import Registry2Tree

pytestmark = pytest.mark.django_db


def _history(repository, tag):
    events = TagEvent.objects.filter(repository=repository, tag=tag).order_by("pk")
    return list(events.values_list("action", "from_digest", "to_digest", "actor_name"))


def _delete_grant(name):
    return bearer("alice", [{"type": "repository", "name": name, "actions": ["delete"]}])


def test_a_v2_push_by_tag_is_one_push(client, public_repo):
    digest = image_push(client, "alice/app", "v1")
    assert _history(public_repo, "v1") == [("push", "", digest, "alice")]
    assert TagEvent.objects.count() == 1


def test_a_v2_delete_by_tag_is_one_delete(client, public_repo):
    digest = image_push(client, "alice/app", "v1")
    answer = client.delete("/v2/alice/app/manifests/v1", **_delete_grant("alice/app"))
    assert answer.status_code == 202
    assert _history(public_repo, "v1")[1:] == [("delete", digest, "", "alice")]


def test_a_v2_delete_by_digest_is_one_delete_per_tag(client, public_repo):
    digest = image_push(client, "alice/app", "v1")
    image_push(client, "alice/app", "stable")
    answer = client.delete(f"/v2/alice/app/manifests/{digest}", **_delete_grant("alice/app"))
    assert answer.status_code == 202
    for tag in ("v1", "stable"):
        assert _history(public_repo, tag) == [
            ("push", "", digest, "alice"),
            ("delete", digest, "", "alice"),
        ]


def test_the_ui_tag_delete_is_one_delete(client, public_repo, alice):
    digest = image_push(client, "alice/app", "v1")
    client.force_login(alice)
    assert client.post("/r/alice/app/-/settings/tags/v1/delete/").status_code == 302
    assert _history(public_repo, "v1") == [
        ("push", "", digest, "alice"),
        ("delete", digest, "", "alice"),
    ]


def test_the_rest_api_tag_delete_is_one_delete(client, public_repo, alice):
    digest = image_push(client, "alice/app", "v1")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=basic_auth("alice"))
    assert api.delete("/api/v1/repositories/alice/app/tags/v1/").status_code == 204
    assert _history(public_repo, "v1")[1:] == [("delete", digest, "", "alice")]


def test_import_records_created_and_moved_tags_once(tmp_path, alice):
    tree = Registry2Tree(tmp_path / "registry")
    first = tree.image("team/app", "1.0", layer=b"first")
    call_command("import_registry", str(tree.root), "--owner", "alice", stdout=StringIO())
    second = tree.image("team/app", "1.0", layer=b"second")
    for _ in range(2):  # a re-run changes nothing
        call_command("import_registry", str(tree.root), "--owner", "alice", stdout=StringIO())
    events = TagEvent.objects.filter(tag="1.0").order_by("pk")
    assert list(events.values_list("action", "from_digest", "to_digest", "actor_name")) == [
        ("import", "", first, ""),
        ("import", first, second, ""),
    ]


def test_a_restore_is_one_restore(client, public_repo, alice):
    first = image_push(client, "alice/app", "v1", layer=b"a")
    second = image_push(client, "alice/app", "v1", layer=b"b")
    tag_restore(repository=public_repo, tag="v1", digest=first, actor=alice)
    assert _history(public_repo, "v1") == [
        ("push", "", first, "alice"),
        ("push", first, second, "alice"),
        ("restore", second, first, "alice"),
    ]
