"""Every movement of a tag is recorded (who, when, from which digest to which), and a deleted
manifest leaves a tombstone that keeps its payload and blobs for a restore."""

from __future__ import annotations

import pytest

from hub.audit import audit_record
from hub.models import AuditEntry
from registry_api.models import Manifest, ManifestTombstone, Tag, TagEvent
from registry_api.services.manifests import manifest_delete
from registry_api.services.tags import tag_delete
from tests.registry_api.conftest import image_push

pytestmark = pytest.mark.django_db


def _history(repository, tag):
    return list(
        TagEvent.objects.filter(repository=repository, tag=tag)
        .order_by("pk")
        .values_list("action", "from_digest", "to_digest", "actor_name")
    )


def test_pushes_and_deletes_are_the_tags_history(client, public_repo, alice):
    first = image_push(client, "alice/app", "v1", layer=b"first")
    second = image_push(client, "alice/app", "v1", layer=b"second")
    tag_delete(tag=Tag.objects.get(repository=public_repo, name="v1"), actor=alice)
    assert _history(public_repo, "v1") == [
        ("push", "", first, "alice"),
        ("push", first, second, "alice"),
        ("delete", second, "", "alice"),
    ]


def test_a_deleted_manifest_leaves_a_tombstone_with_its_blobs(client, public_repo, alice):
    digest = image_push(client, "alice/app", "latest")
    manifest = Manifest.objects.get(repository=public_repo, digest=digest)
    blobs = set(manifest.blobs.values_list("digest", flat=True))
    manifest_delete(manifest=manifest, actor=alice)
    tombstone = ManifestTombstone.objects.get(repository=public_repo, digest=digest)
    assert set(tombstone.blobs.values_list("digest", flat=True)) == blobs and len(blobs) == 2
    assert tombstone.deleted_by == alice and bytes(tombstone.payload).startswith(b"{")
    assert _history(public_repo, "latest")[-1] == ("delete", digest, "", "alice")


def test_audit_record_keeps_the_actor_name_and_no_secret_fields(alice, rf):
    request = rf.get("/", HTTP_USER_AGENT="curl/8", REMOTE_ADDR="127.0.0.9")
    entry = audit_record(
        action="gc.run", actor=alice, target="registry", data={"freed": 3}, request=request
    )
    assert AuditEntry.objects.get() == entry
    assert (entry.actor_name, entry.client_address, entry.user_agent) == (
        "alice",
        "127.0.0.9",
        "curl/8",
    )
    system = audit_record(action="gc.run")
    assert system.actor is None and system.actor_name == ""
