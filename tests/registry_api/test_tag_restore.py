"""tag_restore: a tag goes back to an earlier digest of its history, a live manifest or one
re-created from its tombstone (with an index's children), and nothing else."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from hub.models import AuditEntry
from registry_api.digests import digest_bytes
from registry_api.models import Blob, Manifest, ManifestTombstone, Tag, TagEvent
from registry_api.service_errors import DigestMalformed
from registry_api.services.manifests import manifest_delete
from registry_api.services.restore import (
    DigestNotInHistory,
    RestoreBlobGone,
    RestoreExpired,
    tag_restore,
)
from tests.registry_api.conftest import OCI_MANIFEST, bearer, blob_upload, image_push, push_access
from webhooks.models import Event

pytestmark = pytest.mark.django_db

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
ACCEPT = {"HTTP_ACCEPT": f"{OCI_MANIFEST}, {OCI_INDEX}"}


def _manifest(repository, digest) -> Manifest:
    return Manifest.objects.get(repository=repository, digest=digest)


def _actions(repository, tag):
    events = TagEvent.objects.filter(repository=repository, tag=tag).order_by("pk")
    return list(events.values_list("action", "from_digest", "to_digest", "actor_name"))


def _pull(client, name, reference):
    headers = bearer("alice", [{"type": "repository", "name": name, "actions": ["pull"]}])
    return client.get(f"/v2/{name}/manifests/{reference}", **ACCEPT, **headers)


def index_push(client, name: str, tag: str, layers: tuple[bytes, ...]) -> tuple[str, list[str]]:
    """Push one image per layer by digest, then an index of them as `name:tag`."""
    headers = bearer(name.split("/")[0], push_access(name))
    children = []
    for number, layer in enumerate(layers):
        config = json.dumps({"architecture": f"arch{number}", "os": "linux"}).encode()
        for data in (config, layer):
            blob_upload(client, name, data, headers)
        body = json.dumps({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": digest_bytes(config), "size": len(config)},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                        "digest": digest_bytes(layer), "size": len(layer)}],
        }).encode()  # fmt: skip
        digest = digest_bytes(body)
        answer = client.put(
            f"/v2/{name}/manifests/{digest}", data=body, content_type=OCI_MANIFEST, **headers
        )
        assert answer.status_code == 201, answer.content
        children.append((digest, len(body), f"arch{number}"))
    index = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": digest, "size": size,
                       "platform": {"os": "linux", "architecture": arch}}
                      for digest, size, arch in children],
    }).encode()  # fmt: skip
    answer = client.put(
        f"/v2/{name}/manifests/{tag}", data=index, content_type=OCI_INDEX, **headers
    )
    assert answer.status_code == 201, answer.content
    return digest_bytes(index), [digest for digest, _, _ in children]


def test_restore_to_an_earlier_live_digest(client, public_repo, alice, bob):
    first = image_push(client, "alice/app", "app", layer=b"image A")
    second = image_push(client, "alice/app", "app", layer=b"image B")
    events_before = Event.objects.filter(action="push").count()

    tag = tag_restore(repository=public_repo, tag="app", digest=first, actor=bob)

    assert tag.manifest.digest == first and tag.pushed_by == bob
    assert Tag.objects.get(repository=public_repo, name="app").manifest.digest == first
    assert _actions(public_repo, "app")[-1] == ("restore", second, first, "bob")
    pushed = Event.objects.filter(action="push").order_by("pk")
    assert pushed.count() == events_before + 1
    assert pushed.last().data["tag"] == "app" and pushed.last().data["digest"] == first
    audit = AuditEntry.objects.get(action="tag.restore")
    assert audit.actor == bob and audit.target == "alice/app:app"
    assert audit.data == {"from_digest": second, "to_digest": first}
    assert _pull(client, "alice/app", "app")["Docker-Content-Digest"] == first


def test_restoring_the_current_digest_changes_nothing(client, public_repo, alice):
    digest = image_push(client, "alice/app", "app")
    before = (TagEvent.objects.count(), Event.objects.count())
    assert (
        tag_restore(repository=public_repo, tag="app", digest=digest, actor=alice).manifest.digest
        == digest
    )
    assert (TagEvent.objects.count(), Event.objects.count()) == before


def test_restore_after_manifest_delete_recreates_it_from_its_tombstone(client, public_repo, alice):
    old = image_push(client, "alice/app", "app", layer=b"image A")
    image_push(client, "alice/app", "app", layer=b"image B")
    manifest = _manifest(public_repo, old)
    blobs = set(manifest.blobs.values_list("digest", flat=True))
    manifest_delete(manifest=manifest, actor=alice)
    assert _pull(client, "alice/app", old).status_code == 404

    tag_restore(repository=public_repo, tag="app", digest=old, actor=alice)

    revived = _manifest(public_repo, old)
    assert set(revived.blobs.values_list("digest", flat=True)) == blobs
    assert not ManifestTombstone.objects.filter(repository=public_repo, digest=old).exists()
    pulled = _pull(client, "alice/app", "app")
    assert pulled.status_code == 200 and pulled["Docker-Content-Digest"] == old
    assert digest_bytes(pulled.content) == old
    headers = bearer("alice", [{"type": "repository", "name": "alice/app", "actions": ["pull"]}])
    for blob in blobs:
        answer = client.get(f"/v2/alice/app/blobs/{blob}", **headers)
        assert answer.status_code == 200
        assert digest_bytes(b"".join(answer.streaming_content)) == blob


def test_a_deleted_tag_is_restored_from_its_tombstone(client, public_repo, alice):
    digest = image_push(client, "alice/app", "gone")
    manifest_delete(manifest=_manifest(public_repo, digest), actor=alice)
    assert not Tag.objects.filter(repository=public_repo, name="gone").exists()

    tag_restore(repository=public_repo, tag="gone", digest=digest, actor=alice)

    assert Tag.objects.get(repository=public_repo, name="gone").manifest.digest == digest
    assert [a[0] for a in _actions(public_repo, "gone")] == ["push", "delete", "restore"]


def test_restore_is_refused_once_the_tombstone_expired(client, public_repo, alice, settings):
    digest = image_push(client, "alice/app", "app", layer=b"image A")
    image_push(client, "alice/app", "app", layer=b"image B")
    manifest_delete(manifest=_manifest(public_repo, digest), actor=alice)
    ManifestTombstone.objects.filter(digest=digest).update(
        deleted_at=timezone.now() - timedelta(seconds=settings.TAG_RESTORE_SECONDS + 5)
    )
    with pytest.raises(RestoreExpired):
        tag_restore(repository=public_repo, tag="app", digest=digest, actor=alice)
    assert not Manifest.objects.filter(repository=public_repo, digest=digest).exists()


def test_restore_is_refused_when_gc_took_a_blob(client, public_repo, alice):
    digest = image_push(client, "alice/app", "app", layer=b"image A")
    image_push(client, "alice/app", "app", layer=b"image B")
    manifest_delete(manifest=_manifest(public_repo, digest), actor=alice)
    Blob.objects.filter(digest=digest_bytes(b"image A")).delete()  # what a sweep does
    before = TagEvent.objects.count()

    with pytest.raises(RestoreBlobGone) as refused:
        tag_restore(repository=public_repo, tag="app", digest=digest, actor=alice)

    assert "garbage-collected" in refused.value.message
    assert refused.value.detail["missing"] == [digest_bytes(b"image A")]
    assert not Manifest.objects.filter(repository=public_repo, digest=digest).exists()
    assert TagEvent.objects.count() == before


def test_only_digests_from_the_tags_history_are_restored(client, public_repo, alice):
    other = image_push(client, "alice/app", "other", layer=b"other")
    image_push(client, "alice/app", "app", layer=b"app")
    with pytest.raises(DigestNotInHistory):
        tag_restore(repository=public_repo, tag="app", digest=other, actor=alice)
    with pytest.raises(DigestMalformed):
        tag_restore(repository=public_repo, tag="app", digest="sha256:nope", actor=alice)
    assert Tag.objects.get(repository=public_repo, name="app").manifest.digest != other


def test_an_index_is_restored_with_its_deleted_children(client, public_repo, alice):
    index, children = index_push(client, "alice/app", "multi", (b"amd layer", b"arm layer"))
    image_push(client, "alice/app", "multi", layer=b"single")
    # Deleting the index takes its untagged children with it (each leaves a tombstone).
    manifest_delete(manifest=_manifest(public_repo, index), actor=alice)
    assert not Manifest.objects.filter(repository=public_repo, digest__in=children)

    tag_restore(repository=public_repo, tag="multi", digest=index, actor=alice)

    revived = _manifest(public_repo, index)
    assert sorted(revived.children.values_list("digest", flat=True)) == sorted(children)
    assert _pull(client, "alice/app", "multi")["Docker-Content-Digest"] == index
    for child in children:
        assert _pull(client, "alice/app", child).status_code == 200


def test_an_index_whose_child_is_gone_is_not_restored(client, public_repo, alice):
    index, children = index_push(client, "alice/app", "multi", (b"amd layer", b"arm layer"))
    image_push(client, "alice/app", "multi", layer=b"single")
    # Deleting the index takes its untagged children with it (each leaves a tombstone).
    manifest_delete(manifest=_manifest(public_repo, index), actor=alice)
    assert not Manifest.objects.filter(repository=public_repo, digest__in=children)
    ManifestTombstone.objects.filter(digest=children[1]).delete()

    with pytest.raises(RestoreExpired):
        tag_restore(repository=public_repo, tag="multi", digest=index, actor=alice)
    # All or nothing: the first child revived in the attempt is rolled back too.
    assert not Manifest.objects.filter(repository=public_repo, digest__in=[index, *children])
    assert ManifestTombstone.objects.filter(digest=children[0]).exists()
