"""/api/v1/repositories/<ns>/<name>/tags/: list with digests, sizes and platforms; get; delete."""

from __future__ import annotations

import json

import pytest

from registry_api.models import Tag
from tests import factories
from tests.api.conftest import API, manifest_make
from tests.factories import digest_of

TAGS = f"{API}/repositories/alice/app/tags/"


def test_list_has_digest_size_media_type_platforms_and_pusher(api, tagged):
    body = api.get(TAGS).json()
    assert body["count"] == 2
    tags = {tag["name"]: tag for tag in body["results"]}
    latest, multi = tags["latest"], tags["multi"]
    assert latest["digest"].startswith("sha256:") and latest["full_size"] == 1234
    assert latest["media_type"] == "application/vnd.oci.image.manifest.v1+json"
    assert latest["last_pusher"] == "alice" and latest["last_pulled"] is None
    assert latest["images"][0]["digest"] == latest["digest"]
    assert multi["last_pusher"] is None
    assert multi["full_size"] == 1234 + 999
    assert [(i["os"], i["architecture"], i["variant"], i["size"]) for i in multi["images"]] == [
        ("linux", "amd64", "", 1234),
        ("linux", "arm64", "v8", 999),
    ]


def test_list_paginates(api, tagged):
    body = api.get(TAGS, {"page_size": 1}).json()
    assert body["count"] == 2 and len(body["results"]) == 1 and body["next"]
    assert api.get(TAGS, {"page": 3}).status_code == 404


def test_get_one_tag_and_absent_tags(api, tagged):
    assert api.get(f"{TAGS}latest/").json()["name"] == "latest"
    assert api.get(f"{TAGS}nope/").status_code == 404
    assert api.get(f"{TAGS}..bad../").status_code == 404


def private_tag(private_repo):
    manifest = manifest_make(
        private_repo,
        {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json"},
    )
    return Tag.objects.create(repository=private_repo, name="v1", manifest=manifest)


# caller → (list, get, delete) on alice/secret:v1
MATRIX = {
    "owner": (200, 200, 204),
    "admin": (200, 200, 204),
    "write": (200, 200, 403),
    "read": (200, 200, 403),
    "outsider": (404, 404, 404),
    "anonymous": (404, 404, 404),
    "narrow": (200, 200, 403),
}


@pytest.mark.parametrize("caller", MATRIX)
def test_tag_permission_matrix(client_for, private_repo, caller):
    private_tag(private_repo)
    client = client_for(caller)
    url = f"{API}/repositories/alice/secret/tags/"
    listed, got, deleted = MATRIX[caller]
    assert client.get(url).status_code == listed
    assert client.get(f"{url}v1/").status_code == got
    assert client.delete(f"{url}v1/").status_code == deleted
    assert Tag.objects.filter(name="v1").exists() == (deleted != 204)


def test_delete_token_needs_the_delete_scope(as_token, alice, private_repo):
    private_tag(private_repo)
    url = f"{API}/repositories/alice/secret/tags/v1/"
    assert as_token(alice, "repo:write").delete(url).status_code == 403
    assert as_token(alice, "repo:delete").delete(url).status_code == 204


def test_tags_of_another_repository_are_not_reachable(api, tagged, alice):
    factories.RepositoryFactory(namespace=alice.namespace, name="other")
    assert api.get(f"{API}/repositories/alice/other/tags/latest/").status_code == 404


def test_delete_goes_through_the_registry_service_and_publishes_an_event(as_user, alice, tagged):
    from webhooks.models import Event

    assert as_user(alice).delete(f"{TAGS}latest/").status_code == 204
    assert not Tag.objects.filter(name="latest").exists()
    event = Event.objects.get(action="delete")
    assert event.data["tag"] == "latest" and event.data["actor"] == "alice"


def test_single_image_platform_comes_from_its_config_blob(api, public_repo, tmp_path):
    from registry_api import storage

    config = json.dumps({"os": "linux", "architecture": "arm", "variant": "v7"}).encode()
    staged = tmp_path / "config"
    staged.write_bytes(config)
    storage.blobs().put_verified(digest_of(config), staged)
    manifest = manifest_make(
        public_repo,
        {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json"},
        total_size=77,
    )
    manifest.config_digest = digest_of(config)
    manifest.save()
    Tag.objects.create(repository=public_repo, name="arm", manifest=manifest)
    body = api.get(f"{TAGS}arm/").json()
    assert body["full_size"] == 77
    assert body["images"] == [
        {
            "digest": manifest.digest,
            "size": 77,
            "os": "linux",
            "architecture": "arm",
            "variant": "v7",
        }
    ]
