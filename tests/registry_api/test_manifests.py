"""Manifest GET/HEAD/PUT/DELETE through the Django test client, byte for byte."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.db import transaction

from hub.models import Repository
from registry_api.digests import digest_bytes
from registry_api.manifests import (
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_EMPTY,
    OCI_INDEX,
    OCI_MANIFEST,
)
from registry_api.models import Manifest, Tag
from tests.registry_api.conftest import bearer, blob_upload, pull_access, push_access
from webhooks.models import Event

pytestmark = pytest.mark.django_db

OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
EMPTY_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
ALL_TYPES = ", ".join([DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_MANIFEST, OCI_INDEX])


def dumps(document: dict) -> bytes:
    return json.dumps(document, indent=3).encode()


def descriptor(media_type: str, data: bytes, **extra) -> dict:
    return {"mediaType": media_type, "digest": digest_bytes(data), "size": len(data), **extra}


def image_body(
    client,
    name: str,
    headers: dict,
    *,
    media_type: str = OCI_MANIFEST,
    layers: tuple[bytes, ...] = (b"layer one", b"layer two"),
    config: bytes | None = None,
    config_media_type: str | None = None,
    **fields,
) -> bytes:
    """Upload the config and layers to `name`; return the manifest body that references them."""
    docker = media_type == DOCKER_MANIFEST
    config = config if config is not None else json.dumps({"architecture": "amd64"}).encode()
    config_media_type = config_media_type or (DOCKER_CONFIG if docker else OCI_CONFIG)
    for data in (config, *layers):
        blob_upload(client, name, data, headers)
    document = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": descriptor(config_media_type, config),
        "layers": [descriptor(DOCKER_LAYER if docker else OCI_LAYER, data) for data in layers],
        **fields,
    }
    return dumps(document)


def manifest_put(client, name, reference, body, headers, media_type=OCI_MANIFEST):
    return client.put(
        f"/v2/{name}/manifests/{reference}", data=body, content_type=media_type, **headers
    )


@pytest.fixture
def alice_push():
    return bearer("alice", push_access("alice/app"))


@pytest.fixture
def pushed(client, public_repo, alice_push):
    """alice/app:latest, an OCI image with two layers."""
    body = image_body(client, "alice/app", alice_push)
    response = manifest_put(client, "alice/app", "latest", body, alice_push)
    assert response.status_code == 201, response.content
    return body


# PUT ----------------------------------------------------------------------------------------


def test_put_by_tag_stores_the_bytes_and_answers_201(client, public_repo, alice, alice_push):
    body = image_body(client, "alice/app", alice_push)
    digest = digest_bytes(body)
    response = manifest_put(client, "alice/app", "v1.0", body, alice_push)
    assert response.status_code == 201
    assert response.content == b""
    assert response["Location"] == f"/v2/alice/app/manifests/{digest}"
    assert response["Docker-Content-Digest"] == digest
    assert "OCI-Subject" not in response
    manifest = Manifest.objects.get(repository=public_repo, digest=digest)
    assert bytes(manifest.payload) == body
    assert manifest.media_type == OCI_MANIFEST
    assert manifest.pushed_by == alice
    assert manifest.blobs.count() == 3
    assert manifest.total_size == sum(
        len(part) for part in (b'{"architecture": "amd64"}', b"layer one", b"layer two")
    )
    tag = Tag.objects.get(repository=public_repo, name="v1.0")
    assert tag.manifest == manifest and tag.pushed_by == alice


def test_push_event_is_recorded_once_per_tag_put(client, public_repo, alice_push):
    body = image_body(client, "alice/app", alice_push)
    before = Event.objects.count()
    manifest_put(client, "alice/app", "latest", body, alice_push)
    event = Event.objects.order_by("-pk").first()
    assert Event.objects.count() == before + 1
    assert event.action == "push"
    assert event.repository == public_repo
    assert event.data["tag"] == "latest"
    assert event.data["digest"] == digest_bytes(body)
    assert event.data["media_type"] == OCI_MANIFEST
    assert event.data["pusher"] == event.data["actor"] == "alice"
    # A push by digest moves no tag: no event.
    manifest_put(client, "alice/app", digest_bytes(body), body, alice_push)
    assert Event.objects.count() == before + 1


def test_push_event_rolls_back_with_the_tag(client, public_repo, alice, alice_push):
    """The event is written in the push's transaction: no tag, no event."""
    from registry_api.services.manifests import manifest_push, manifest_validate

    body = image_body(client, "alice/app", alice_push)
    valid = manifest_validate(reference="rolled", body=body, content_type=OCI_MANIFEST)
    with pytest.raises(RuntimeError), transaction.atomic():
        manifest_push(repository=public_repo, valid=valid, actor=alice)
        assert Event.objects.filter(data__tag="rolled").exists()
        raise RuntimeError
    assert not Event.objects.filter(data__tag="rolled").exists()
    assert not Tag.objects.filter(name="rolled").exists()


def test_first_push_creates_the_repository(client, alice):
    headers = bearer("alice", push_access("alice/fresh"))
    body = image_body(client, "alice/fresh", headers)
    response = manifest_put(client, "alice/fresh", "latest", body, headers)
    assert response.status_code == 201
    assert Tag.objects.get(repository__name="fresh", name="latest")


def test_put_by_digest_and_sha512(client, public_repo, alice_push):
    body = image_body(client, "alice/app", alice_push)
    sha512 = "sha512:" + hashlib.sha512(body).hexdigest()
    response = manifest_put(client, "alice/app", sha512, body, alice_push)
    assert response.status_code == 201
    assert response["Docker-Content-Digest"] == sha512
    assert response["Location"] == f"/v2/alice/app/manifests/{sha512}"
    got = client.get(f"/v2/alice/app/manifests/{sha512}", **alice_push)
    assert got.status_code == 200
    assert got.content == body
    assert got["Docker-Content-Digest"] == sha512
    assert not Tag.objects.filter(repository=public_repo).exists()


def test_put_digest_mismatch_is_digest_invalid(client, public_repo, alice_push):
    body = image_body(client, "alice/app", alice_push)
    wrong = digest_bytes(body + b" ")
    response = manifest_put(client, "alice/app", wrong, body, alice_push)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "DIGEST_INVALID"
    malformed = manifest_put(client, "alice/app", "sha256:nothex", body, alice_push)
    assert malformed.status_code == 400
    assert malformed.json()["errors"][0]["code"] == "DIGEST_INVALID"
    assert not Manifest.objects.exists()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"not json", OCI_MANIFEST),
        (b"[]", OCI_MANIFEST),
        (dumps({"schemaVersion": 1, "config": {}, "layers": []}), OCI_MANIFEST),
        (dumps({"schemaVersion": 2, "mediaType": "text/html", "layers": []}), "text/html"),
        (dumps({"schemaVersion": 2, "mediaType": DOCKER_MANIFEST, "layers": []}), OCI_MANIFEST),
        (dumps({"schemaVersion": 2, "layers": []}), DOCKER_MANIFEST),
        (dumps({"schemaVersion": 2, "config": {"mediaType": OCI_CONFIG}, "layers": []}), ""),
    ],
)
def test_invalid_manifests_are_manifest_invalid(
    client, public_repo, alice_push, body, content_type
):
    response = manifest_put(client, "alice/app", "latest", body, alice_push, content_type)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["code"] == "MANIFEST_INVALID"
    assert error["message"]
    assert not Manifest.objects.exists()


@pytest.mark.parametrize("tag", ["-leading-dash", ".dot", "x" * 129, "a+b"])
def test_invalid_tag_is_manifest_invalid(client, public_repo, alice_push, tag):
    body = dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []})
    response = manifest_put(client, "alice/app", tag, body, alice_push, OCI_INDEX)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "MANIFEST_INVALID"


def test_size_limit_answers_413(client, public_repo, alice_push, settings):
    settings.REGISTRY_MAX_MANIFEST_BYTES = 100
    body = dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [], "x": "y" * 200})
    response = manifest_put(client, "alice/app", "big", body, alice_push, OCI_INDEX)
    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "MANIFEST_INVALID"
    assert response.json()["errors"][0]["detail"]["limit"] == 100


def test_missing_blob_is_manifest_blob_unknown(client, public_repo, alice_push):
    config = b"{}"
    blob_upload(client, "alice/app", config, alice_push)
    missing = descriptor(OCI_LAYER, b"never uploaded")
    body = dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": descriptor(OCI_CONFIG, config),
            "layers": [missing],
        }
    )
    response = manifest_put(client, "alice/app", "latest", body, alice_push)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["code"] == "MANIFEST_BLOB_UNKNOWN"
    assert error["detail"]["digest"] == missing["digest"]
    assert not Tag.objects.exists()


def test_blob_of_another_repository_does_not_count(client, public_repo, private_repo, alice):
    secret_push = bearer("alice", push_access("alice/secret"))
    app_push = bearer("alice", push_access("alice/app"))
    body = image_body(client, "alice/secret", secret_push)
    response = manifest_put(client, "alice/app", "latest", body, app_push)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "MANIFEST_BLOB_UNKNOWN"


def test_non_distributable_layer_need_not_be_present(client, public_repo, alice_push):
    config = b"{}"
    blob_upload(client, "alice/app", config, alice_push)
    foreign = descriptor(
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
        b"windows base layer",
        urls=["https://example.com/layer"],
    )
    body = dumps(
        {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST,
            "config": descriptor(DOCKER_CONFIG, config),
            "layers": [foreign],
        }
    )
    response = manifest_put(client, "alice/app", "win", body, alice_push, DOCKER_MANIFEST)
    assert response.status_code == 201, response.content


def test_artifact_with_empty_config_and_subject(client, pushed, alice_push):
    subject = digest_bytes(pushed)
    blob_upload(client, "alice/app", b"{}", alice_push)
    blob_upload(client, "alice/app", b"signature", alice_push)
    body = dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": "application/vnd.example.signature",
            "config": {"mediaType": OCI_EMPTY, "digest": EMPTY_DIGEST, "size": 2},
            "layers": [descriptor("application/vnd.example.sig", b"signature")],
            "subject": {"mediaType": OCI_MANIFEST, "digest": subject, "size": len(pushed)},
        }
    )
    assert digest_bytes(b"{}") == EMPTY_DIGEST
    response = manifest_put(client, "alice/app", digest_bytes(body), body, alice_push)
    assert response.status_code == 201, response.content
    assert response["OCI-Subject"] == subject
    manifest = Manifest.objects.get(digest=digest_bytes(body))
    assert manifest.subject_digest == subject
    assert manifest.artifact_type == "application/vnd.example.signature"


def test_subject_need_not_exist(client, public_repo, alice_push):
    blob_upload(client, "alice/app", b"{}", alice_push)
    absent = "sha256:" + "1" * 64
    body = dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_EMPTY, "digest": EMPTY_DIGEST, "size": 2},
            "layers": [],
            "subject": {"mediaType": OCI_MANIFEST, "digest": absent, "size": 10},
        }
    )
    response = manifest_put(client, "alice/app", digest_bytes(body), body, alice_push)
    assert response.status_code == 201
    assert response["OCI-Subject"] == absent


def _multi_arch(client, headers, media_type=OCI_INDEX):
    child_type = OCI_MANIFEST if media_type == OCI_INDEX else DOCKER_MANIFEST
    children = []
    for arch in ("amd64", "arm64"):
        config = json.dumps({"architecture": arch, "os": "linux"}).encode()
        body = image_body(
            client,
            "alice/app",
            headers,
            media_type=child_type,
            config=config,
            layers=(arch.encode(),),
        )
        response = manifest_put(client, "alice/app", digest_bytes(body), body, headers, child_type)
        assert response.status_code == 201, response.content
        children.append(
            descriptor(child_type, body, platform={"architecture": arch, "os": "linux"})
        )
    index = dumps({"schemaVersion": 2, "mediaType": media_type, "manifests": children})
    return index, children


@pytest.mark.parametrize("media_type", [OCI_INDEX, DOCKER_MANIFEST_LIST])
def test_multi_arch_index_links_its_children(client, public_repo, alice_push, media_type):
    index, children = _multi_arch(client, alice_push, media_type)
    response = manifest_put(client, "alice/app", "multi", index, alice_push, media_type)
    assert response.status_code == 201, response.content
    stored = Manifest.objects.get(digest=digest_bytes(index))
    assert {child.digest for child in stored.children.all()} == {c["digest"] for c in children}
    assert stored.total_size == sum(child.total_size for child in stored.children.all()) > 0
    got = client.get("/v2/alice/app/manifests/multi", HTTP_ACCEPT=ALL_TYPES, **alice_push)
    assert got.content == index
    assert got["Content-Type"] == media_type


def test_index_with_a_missing_child_is_refused(client, public_repo, alice_push):
    child = descriptor(OCI_MANIFEST, b"{}", platform={"architecture": "amd64", "os": "linux"})
    index = dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [child]})
    response = manifest_put(client, "alice/app", "multi", index, alice_push, OCI_INDEX)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "MANIFEST_BLOB_UNKNOWN"
    assert response.json()["errors"][0]["detail"]["digest"] == child["digest"]


def test_huge_index_is_checked_in_batches(client, public_repo, alice_push):
    children = [
        {"mediaType": OCI_MANIFEST, "digest": f"sha256:{i:064x}", "size": 1} for i in range(25_000)
    ]
    index = json.dumps({"schemaVersion": 2, "manifests": children}, separators=(",", ":"))
    response = manifest_put(client, "alice/app", "huge", index.encode(), alice_push, OCI_INDEX)
    assert response.status_code == 400
    detail = response.json()["errors"][0]["detail"]
    assert detail["missing_count"] == 25_000
    assert len(detail["missing"]) == 10


def test_retag_moves_the_tag_and_records_the_pusher(client, public_repo, pushed, bob):
    bob_push = bearer("bob", push_access("alice/app"))
    public_repo.collaborators.create(user=bob, role="write")
    other = image_body(client, "alice/app", bob_push, layers=(b"other",))
    response = manifest_put(client, "alice/app", "latest", other, bob_push)
    assert response.status_code == 201
    tag = Tag.objects.get(repository=public_repo, name="latest")
    assert tag.manifest.digest == digest_bytes(other)
    assert tag.pushed_by == bob
    # The previous manifest stays, reachable by digest.
    old = client.get(f"/v2/alice/app/manifests/{digest_bytes(pushed)}", **bob_push)
    assert old.status_code == 200


def test_pull_only_token_cannot_push(client, pushed):
    response = manifest_put(
        client, "alice/app", "latest", pushed, bearer("bob", pull_access("alice/app"))
    )
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "DENIED"


# GET / HEAD ---------------------------------------------------------------------------------


def test_get_by_tag_and_digest_serves_the_exact_bytes(client, pushed, alice_push):
    digest = digest_bytes(pushed)
    for reference in ("latest", digest):
        response = client.get(
            f"/v2/alice/app/manifests/{reference}", HTTP_ACCEPT=ALL_TYPES, **alice_push
        )
        assert response.status_code == 200
        assert response.content == pushed
        assert response["Content-Type"] == OCI_MANIFEST
        assert response["Docker-Content-Digest"] == digest
        assert response["Content-Length"] == str(len(pushed))
        assert response["ETag"] == f'"{digest}"'
        assert response["Docker-Distribution-API-Version"] == "registry/2.0"


def test_head_has_the_headers_and_no_body(client, pushed, alice_push):
    response = client.head("/v2/alice/app/manifests/latest", **alice_push)
    assert response.status_code == 200
    assert response.content == b""
    assert response["Content-Length"] == str(len(pushed))
    assert response["Docker-Content-Digest"] == digest_bytes(pushed)
    assert response["Content-Type"] == OCI_MANIFEST


def test_get_counts_a_pull_and_head_does_not(client, public_repo, pushed, alice_push):
    public_repo.refresh_from_db()
    start = public_repo.pull_count
    client.head("/v2/alice/app/manifests/latest", **alice_push)
    public_repo.refresh_from_db()
    assert public_repo.pull_count == start
    assert Tag.objects.get(name="latest").last_pulled_at is None
    client.get("/v2/alice/app/manifests/latest", **alice_push)
    client.get(f"/v2/alice/app/manifests/{digest_bytes(pushed)}", **alice_push)
    public_repo.refresh_from_db()
    assert public_repo.pull_count == start + 2
    assert Tag.objects.get(name="latest").last_pulled_at is not None


def test_anonymous_pull_of_public_repository(client, pushed):
    anonymous = bearer("", pull_access("alice/app"))
    response = client.get("/v2/alice/app/manifests/latest", **anonymous)
    assert response.status_code == 200
    assert response.content == pushed


@pytest.mark.parametrize(
    ("accept", "served"),
    [
        ("", True),
        (OCI_MANIFEST, True),
        (f"{DOCKER_MANIFEST}, {OCI_MANIFEST};q=0.5", True),
        ("*/*", True),
        ("application/*", True),
        (f"{DOCKER_MANIFEST}, {DOCKER_MANIFEST_LIST}", False),
        (f"{OCI_INDEX}", False),
        (f"{OCI_MANIFEST};q=0", False),
        (f"{OCI_MANIFEST}; q=0.000, {DOCKER_MANIFEST}", False),
        (f"{OCI_MANIFEST};q=junk", True),
        ("application/json", False),
    ],
)
def test_content_negotiation_never_serves_an_unasked_type(
    client, pushed, alice_push, accept, served
):
    headers = dict(alice_push)
    if accept:
        headers["HTTP_ACCEPT"] = accept
    response = client.get("/v2/alice/app/manifests/latest", **headers)
    if served:
        assert response.status_code == 200
        assert response["Content-Type"] == OCI_MANIFEST
        assert response.content == pushed
    else:
        assert response.status_code == 404
        assert response.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"
        assert response["Content-Type"] == "application/json"


def test_docker_manifest_served_to_a_docker_client(client, public_repo, alice_push):
    body = image_body(client, "alice/app", alice_push, media_type=DOCKER_MANIFEST)
    manifest_put(client, "alice/app", "docker", body, alice_push, DOCKER_MANIFEST)
    docker_accept = f"{DOCKER_MANIFEST}, {DOCKER_MANIFEST_LIST}"
    response = client.get("/v2/alice/app/manifests/docker", HTTP_ACCEPT=docker_accept, **alice_push)
    assert response.status_code == 200
    assert response["Content-Type"] == DOCKER_MANIFEST
    assert response.content == body
    oci_only = client.get("/v2/alice/app/manifests/docker", HTTP_ACCEPT=OCI_MANIFEST, **alice_push)
    assert oci_only.status_code == 404


def test_unknown_manifest_and_unknown_repository(client, pushed, alice_push, alice):
    for reference in ("nope", "sha256:" + "0" * 64, "sha256:bad", "bad tag!"):
        response = client.get(f"/v2/alice/app/manifests/{reference}", **alice_push)
        assert response.status_code == 404, reference
        assert response.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"
    head = client.head("/v2/alice/app/manifests/nope", **alice_push)
    assert head.status_code == 404 and head.content == b""
    fresh = bearer("alice", push_access("alice/absent"))
    response = client.get("/v2/alice/absent/manifests/latest", **fresh)
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "NAME_UNKNOWN"


def test_private_repository_manifest_looks_absent(client, private_repo, charlie):
    owner = bearer("alice", push_access("alice/secret"))
    body = image_body(client, "alice/secret", owner)
    assert manifest_put(client, "alice/secret", "latest", body, owner).status_code == 201
    # The token service grants an outsider nothing on a private repository.
    outsider = bearer("charlie", [])
    hidden = client.get("/v2/alice/secret/manifests/latest", **outsider)
    absent = client.get("/v2/alice/nothing/manifests/latest", **outsider)
    assert hidden.status_code == absent.status_code == 401
    assert hidden.content == absent.content
    collaborator = bearer("bob", pull_access("alice/secret"))
    assert client.get("/v2/alice/secret/manifests/latest", **collaborator).content == body


# DELETE -------------------------------------------------------------------------------------


def _delete_access(name: str) -> list[dict]:
    return [{"type": "repository", "name": name, "actions": ["pull", "push", "delete"]}]


def test_delete_by_tag_removes_only_the_tag(client, public_repo, pushed):
    headers = bearer("alice", _delete_access("alice/app"))
    response = client.delete("/v2/alice/app/manifests/latest", **headers)
    assert response.status_code == 202
    assert response.content == b""
    assert not Tag.objects.filter(name="latest").exists()
    assert (
        client.get(f"/v2/alice/app/manifests/{digest_bytes(pushed)}", **headers).status_code == 200
    )
    assert client.get("/v2/alice/app/manifests/latest", **headers).status_code == 404
    event = Event.objects.order_by("-pk").first()
    assert event.action == "delete"
    assert event.data["tag"] == "latest" and event.data["digest"] == digest_bytes(pushed)
    again = client.delete("/v2/alice/app/manifests/latest", **headers)
    assert again.status_code == 404
    assert again.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"


def test_delete_by_digest_removes_the_manifest_and_its_tags(
    client, public_repo, pushed, alice_push
):
    manifest_put(client, "alice/app", "stable", pushed, alice_push)
    headers = bearer("alice", _delete_access("alice/app"))
    digest = digest_bytes(pushed)
    before = Event.objects.count()
    response = client.delete(f"/v2/alice/app/manifests/{digest}", **headers)
    assert response.status_code == 202
    assert not Manifest.objects.filter(digest=digest).exists()
    assert not Tag.objects.filter(repository=public_repo).exists()
    events = Event.objects.order_by("pk")[before:]
    assert [(e.action, e.data["tag"]) for e in events] == [
        ("delete", "latest"),
        ("delete", "stable"),
    ]
    gone = client.delete(f"/v2/alice/app/manifests/{digest}", **headers)
    assert gone.status_code == 404
    assert gone.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"


def test_delete_needs_the_delete_action(client, pushed, alice_push):
    response = client.delete("/v2/alice/app/manifests/latest", **alice_push)
    assert response.status_code in (401, 403)
    assert Tag.objects.filter(name="latest").exists()


def test_tag_delete_service_used_by_the_ui(pushed, alice, public_repo):
    from registry_api.services.tags import tag_delete

    tag = Tag.objects.get(repository=public_repo, name="latest")
    tag_delete(tag=tag, actor=alice)
    assert not Tag.objects.filter(pk=tag.pk).exists()
    assert Manifest.objects.filter(digest=digest_bytes(pushed)).exists()
    assert Event.objects.filter(action="delete", data__tag="latest").exists()


def test_pull_count_untouched_by_failed_get(client, public_repo, alice_push):
    client.get("/v2/alice/app/manifests/nothing", **alice_push)
    assert Repository.objects.get(pk=public_repo.pk).pull_count == 0


def test_error_and_list_bodies_byte_for_byte(client, pushed, alice_push):
    unknown = client.get("/v2/alice/app/manifests/nope", **alice_push)
    assert unknown.content == (
        b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown to registry",'
        b'"detail":{"reference":"nope"}}]}\n'
    )
    assert unknown["Content-Type"] == "application/json"
    tags = client.get("/v2/alice/app/tags/list", **alice_push)
    assert tags.content == b'{"name":"alice/app","tags":["latest"]}\n'


def test_other_methods_are_unsupported(client, pushed, alice_push):
    response = client.post("/v2/alice/app/manifests/latest", **alice_push)
    assert response.status_code == 405
    assert response.json()["errors"][0]["code"] == "UNSUPPORTED"
    assert response["Allow"] == "GET, HEAD, PUT, DELETE"


def test_delete_in_an_absent_repository_is_name_unknown(client, alice):
    headers = bearer("alice", _delete_access("alice/absent"))
    response = client.delete("/v2/alice/absent/manifests/latest", **headers)
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "NAME_UNKNOWN"


def test_registry_requests_pass_the_portal_middleware_untouched(client, alice_push):
    """The test client runs settings.MIDDLEWARE, as gunicorn does: /v2/ skips sessions, locale,
    CSRF, messages and clickjacking headers, which the portal's pages get."""
    registry = client.get("/v2/", **alice_push)
    assert registry.status_code == 200
    assert "Content-Language" not in registry and "X-Frame-Options" not in registry
    assert not registry.cookies
    portal = client.get("/")
    assert portal["Content-Language"] == "en" and portal["X-Frame-Options"] == "DENY"
