"""Deleting safely over /v2/: an index takes its own children and no one else's, a child an index
lists is refused, referrers follow their subject (or stay, by setting), a tag delete keeps the
manifest, and every deleted manifest leaves a tombstone and its tags' history."""

from __future__ import annotations

import json

import pytest

from registry_api.digests import digest_bytes
from registry_api.manifests import OCI_EMPTY, OCI_INDEX, OCI_MANIFEST
from registry_api.models import Manifest, ManifestTombstone, Tag, TagEvent
from registry_api.services.manifests import manifest_delete_plan
from tests.registry_api.conftest import bearer, blob_upload
from tests.registry_api.test_manifests import descriptor, dumps, image_body, manifest_put

pytestmark = pytest.mark.django_db

COSIGN_SIG = "application/vnd.dev.cosign.artifact.sig.v1+json"
EMPTY_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"


@pytest.fixture
def headers(public_repo):
    access = [{"type": "repository", "name": "alice/app", "actions": ["pull", "push", "delete"]}]
    return bearer("alice", access)


def platform_push(client, headers, arch: str) -> bytes:
    """Push one platform image by digest (as buildx does before the index); return its body."""
    config = json.dumps({"architecture": arch, "os": "linux"}).encode()
    body = image_body(client, "alice/app", headers, config=config, layers=(arch.encode(),))
    assert manifest_put(client, "alice/app", digest_bytes(body), body, headers).status_code == 201
    return body


def index_push(client, headers, tag: str, children: list[bytes], **fields) -> bytes:
    descriptors = [descriptor(OCI_MANIFEST, child) for child in children]
    body = dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors, **fields})
    response = manifest_put(client, "alice/app", tag, body, headers, OCI_INDEX)
    assert response.status_code == 201, response.content
    return body


def signature_push(client, headers, subject: bytes, *, tag: str | None = None, note=b"sig"):
    """A cosign-style signature: an OCI artifact whose subject is `subject`."""
    blob_upload(client, "alice/app", b"{}", headers)
    blob_upload(client, "alice/app", note, headers)
    body = dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": COSIGN_SIG,
            "config": {"mediaType": OCI_EMPTY, "digest": EMPTY_DIGEST, "size": 2},
            "layers": [descriptor("application/vnd.dev.cosign.simplesigning.v1+json", note)],
            "subject": descriptor(OCI_MANIFEST, subject),
        }
    )
    response = manifest_put(client, "alice/app", tag or digest_bytes(body), body, headers)
    assert response.status_code == 201, response.content
    return body


def legacy_signature_push(client, headers, subject: bytes) -> bytes:
    """cosign's tag scheme (no referrers API): `sha256-<hex>.sig`, no `subject` field."""
    blob_upload(client, "alice/app", b"{}", headers)
    note = b"legacy signature"
    blob_upload(client, "alice/app", note, headers)
    body = dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_EMPTY, "digest": EMPTY_DIGEST, "size": 2},
            "layers": [descriptor("application/vnd.dev.cosign.simplesigning.v1+json", note)],
        }
    )
    tag = digest_bytes(subject).replace(":", "-") + ".sig"
    assert manifest_put(client, "alice/app", tag, body, headers).status_code == 201
    return body


def delete(client, headers, reference: str):
    return client.delete(f"/v2/alice/app/manifests/{reference}", **headers)


def present(*bodies: bytes) -> list[bool]:
    return [Manifest.objects.filter(digest=digest_bytes(body)).exists() for body in bodies]


def test_deleting_an_index_deletes_its_own_children_and_keeps_shared_ones(client, headers):
    amd, arm, riscv = (platform_push(client, headers, arch) for arch in ("amd64", "arm64", "riscv"))
    one = index_push(client, headers, "one", [amd, arm])
    two = index_push(client, headers, "two", [arm, riscv])
    response = delete(client, headers, digest_bytes(one))
    assert response.status_code == 202, response.content
    # amd64 was only one's; arm64 is still listed by `two`; riscv is two's.
    assert present(one, amd, arm, riscv, two) == [False, False, True, True, True]
    assert client.get("/v2/alice/app/manifests/two", **headers).status_code == 200
    assert client.get(f"/v2/alice/app/manifests/{digest_bytes(arm)}", **headers).status_code == 200
    # Both deleted manifests stay restorable; only the index had a tag.
    assert set(ManifestTombstone.objects.values_list("digest", flat=True)) == {
        digest_bytes(one),
        digest_bytes(amd),
    }
    assert TagEvent.objects.filter(tag="one", action="delete").count() == 1


def test_a_tagged_child_stays_when_its_index_goes(client, headers):
    amd, arm = platform_push(client, headers, "amd64"), platform_push(client, headers, "arm64")
    assert manifest_put(client, "alice/app", "amd64-only", amd, headers).status_code == 201
    index = index_push(client, headers, "multi", [amd, arm])
    assert delete(client, headers, digest_bytes(index)).status_code == 202
    assert present(index, amd, arm) == [False, True, False]
    assert Tag.objects.filter(name="amd64-only").exists()


def test_deleting_a_child_an_index_lists_is_denied_naming_the_index(client, headers):
    amd, arm = platform_push(client, headers, "amd64"), platform_push(client, headers, "arm64")
    index = index_push(client, headers, "multi", [amd, arm])
    response = delete(client, headers, digest_bytes(amd))
    assert response.status_code == 403
    error = response.json()["errors"][0]
    assert error["code"] == "DENIED"
    assert digest_bytes(index) in error["message"] and "multi" in error["message"]
    assert error["detail"]["indexes"] == [digest_bytes(index)]
    assert present(index, amd, arm) == [True, True, True]
    assert not ManifestTombstone.objects.exists()
    # Once the index is gone, the (shared-by-nobody) child went with it.
    assert delete(client, headers, digest_bytes(index)).status_code == 202
    assert present(amd, arm) == [False, False]


def test_nested_indexes_follow_the_same_rule(client, headers):
    amd, arm = platform_push(client, headers, "amd64"), platform_push(client, headers, "arm64")
    inner = index_push(client, headers, "inner", [amd, arm])
    Tag.objects.filter(name="inner").delete()  # now an untagged child of `outer` below
    outer = dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [descriptor(OCI_INDEX, inner)],
        }
    )
    assert manifest_put(client, "alice/app", "outer", outer, headers, OCI_INDEX).status_code == 201
    assert delete(client, headers, digest_bytes(outer)).status_code == 202
    assert present(outer, inner, amd, arm) == [False, False, False, False]


@pytest.mark.parametrize("with_referrers", [True, False])
def test_referrers_follow_their_subject_by_setting(client, headers, settings, with_referrers):
    settings.DELETE_REFERRERS_WITH_SUBJECT = with_referrers
    image = platform_push(client, headers, "amd64")
    assert manifest_put(client, "alice/app", "latest", image, headers).status_code == 201
    signature = signature_push(client, headers, image)
    # A signature of the signature (cosign can countersign): followed recursively.
    countersignature = signature_push(client, headers, signature, note=b"countersigned")
    unrelated = platform_push(client, headers, "arm64")
    unrelated_signature = signature_push(client, headers, unrelated, note=b"other")
    assert delete(client, headers, digest_bytes(image)).status_code == 202
    assert present(image) == [False]
    assert present(signature, countersignature) == [not with_referrers] * 2
    assert present(unrelated, unrelated_signature) == [True, True]
    referrers = client.get(f"/v2/alice/app/referrers/{digest_bytes(image)}", **headers).json()
    listed = [entry["digest"] for entry in referrers["manifests"]]
    assert listed == ([] if with_referrers else [digest_bytes(signature)])
    tombstones = set(ManifestTombstone.objects.values_list("digest", flat=True))
    expected = {digest_bytes(image)}
    if with_referrers:
        expected |= {digest_bytes(signature), digest_bytes(countersignature)}
    assert tombstones == expected


def test_signature_of_a_multi_arch_index_goes_with_it_and_not_with_a_tag_delete(client, headers):
    amd, arm = platform_push(client, headers, "amd64"), platform_push(client, headers, "arm64")
    index = index_push(client, headers, "latest", [amd, arm])
    assert manifest_put(client, "alice/app", "stable", index, headers, OCI_INDEX).status_code == 201
    signature = signature_push(client, headers, index)
    # A tag delete only removes the tag: the index (still tagged `stable`) and all it holds stay.
    assert delete(client, headers, "latest").status_code == 202
    assert present(index, amd, arm, signature) == [True] * 4
    # Even the last tag: the manifest stays reachable by digest.
    assert delete(client, headers, "stable").status_code == 202
    assert present(index, amd, arm, signature) == [True] * 4
    assert delete(client, headers, digest_bytes(index)).status_code == 202
    assert present(index, amd, arm, signature) == [False] * 4
    assert ManifestTombstone.objects.count() == 4


def test_a_tag_delete_keeps_a_child_an_index_uses(client, headers):
    amd, arm = platform_push(client, headers, "amd64"), platform_push(client, headers, "arm64")
    assert manifest_put(client, "alice/app", "amd", amd, headers).status_code == 201
    index_push(client, headers, "multi", [amd, arm])
    assert delete(client, headers, "amd").status_code == 202
    assert present(amd) == [True]
    assert client.get("/v2/alice/app/manifests/multi", **headers).status_code == 200


def test_cosign_tag_scheme_signature_goes_with_its_subject(client, headers, settings):
    settings.DELETE_REFERRERS_WITH_SUBJECT = True
    image = platform_push(client, headers, "amd64")
    assert manifest_put(client, "alice/app", "latest", image, headers).status_code == 201
    signature = legacy_signature_push(client, headers, image)
    sig_tag = digest_bytes(image).replace(":", "-") + ".sig"
    assert delete(client, headers, digest_bytes(image)).status_code == 202
    assert present(image, signature) == [False, False]
    assert not Tag.objects.filter(name=sig_tag).exists()
    assert TagEvent.objects.filter(tag=sig_tag, action="delete").count() == 1


def test_cosign_tag_scheme_signature_stays_with_the_setting_off(client, headers, settings):
    settings.DELETE_REFERRERS_WITH_SUBJECT = False
    image = platform_push(client, headers, "amd64")
    signature = legacy_signature_push(client, headers, image)
    assert delete(client, headers, digest_bytes(image)).status_code == 202
    assert present(image, signature) == [False, True]


def test_a_referrer_another_tag_uses_stays(client, headers, settings):
    settings.DELETE_REFERRERS_WITH_SUBJECT = True
    image = platform_push(client, headers, "amd64")
    signature = signature_push(client, headers, image, tag="kept-signature")
    assert delete(client, headers, digest_bytes(image)).status_code == 202
    assert present(image, signature) == [False, True]


def test_the_plan_lists_what_would_go_without_changing_anything(client, headers, public_repo):
    amd, arm, riscv = (platform_push(client, headers, arch) for arch in ("amd64", "arm64", "riscv"))
    one = index_push(client, headers, "one", [amd, arm])
    index_push(client, headers, "two", [arm, riscv])
    signature = signature_push(client, headers, one)
    plan = manifest_delete_plan(manifest=Manifest.objects.get(digest=digest_bytes(one)))
    assert plan.digests[0] == digest_bytes(one)
    assert set(plan.digests) == {digest_bytes(one), digest_bytes(amd), digest_bytes(signature)}
    assert [kept.digest for kept in plan.kept] == [digest_bytes(arm)]
    assert present(one, amd, arm, signature) == [True] * 4
