"""A trailing newline never passes validation (`$` matches before one; patterns end in \\Z)."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from hub.models import Repository
from hub.names import PATH_COMPONENT_RE, REPOSITORY_PATH_RE, TAG_RE
from hub.services.repositories import repository_create
from registry_api.digests import digest_bytes, digest_parse
from registry_api.errors import DigestInvalid, NameInvalid
from registry_api.manifests import OCI_INDEX, OCI_MANIFEST, InvalidManifest, manifest_parse
from registry_api.models import Manifest, Tag
from registry_api.names import repository_resolve
from tests.api.conftest import API
from tests.conftest import basic_auth
from tests.registry_api.conftest import bearer, blob_upload, pull_access, push_access

HEX = "a" * 64
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar"


def _image(*, layer_digest=None, artifact_type=None) -> bytes:
    document = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": CONFIG, "digest": digest_bytes(b"{}"), "size": 2},
        "layers": [{"mediaType": LAYER, "digest": layer_digest or digest_bytes(b"l"), "size": 1}],
    }
    if artifact_type is not None:
        document["artifactType"] = artifact_type
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    ("pattern", "value"),
    [(TAG_RE, "latest"), (PATH_COMPONENT_RE, "alice"), (REPOSITORY_PATH_RE, "alice/app")],
)
def test_name_and_tag_patterns_refuse_a_trailing_newline(pattern, value):
    assert pattern.match(value)
    assert not pattern.match(value + "\n")
    assert not pattern.search(value + "\n")  # how Django's RegexValidator applies it


def test_digest_with_a_trailing_newline_is_invalid():
    with pytest.raises(DigestInvalid):
        digest_parse(f"sha256:{HEX}\n")


def test_manifest_descriptor_digest_with_a_trailing_newline_is_invalid():
    manifest_parse(_image(layer_digest=f"sha256:{HEX}"), OCI_MANIFEST)
    with pytest.raises(InvalidManifest, match="digest"):
        manifest_parse(_image(layer_digest=f"sha256:{HEX}\n"), OCI_MANIFEST)


def test_artifact_type_with_a_trailing_newline_is_invalid():
    manifest_parse(_image(artifact_type="application/x.test"), OCI_MANIFEST)
    with pytest.raises(InvalidManifest, match="artifactType"):
        manifest_parse(_image(artifact_type="application/x.test\n"), OCI_MANIFEST)


def test_registry_name_with_a_trailing_newline_is_invalid():
    assert repository_resolve("alice/app") == ("alice", "app")
    with pytest.raises(NameInvalid):
        repository_resolve("alice/app\n")
    with pytest.raises(NameInvalid):
        repository_resolve("alice\n/app")


def test_repository_service_refuses_a_name_with_a_trailing_newline(alice):
    with pytest.raises(ValidationError) as excinfo:
        repository_create(namespace=alice.namespace, name="app\n", actor=alice)
    assert "name" in excinfo.value.message_dict
    assert not Repository.objects.exists()


def test_v2_put_by_tag_with_a_trailing_newline_is_manifest_invalid(client, public_repo):
    headers = bearer("alice", push_access("alice/app"))
    body = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}).encode()
    response = client.put(
        "/v2/alice/app/manifests/latest%0A", data=body, content_type=OCI_INDEX, **headers
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "MANIFEST_INVALID"
    assert not Tag.objects.exists() and not Manifest.objects.exists()


def test_v2_manifest_body_with_a_newline_after_a_digest_is_manifest_invalid(client, public_repo):
    headers = bearer("alice", push_access("alice/app"))
    blob_upload(client, "alice/app", b"{}", headers)
    layer = digest_bytes(b"l")
    blob_upload(client, "alice/app", b"l", headers)
    body = _image(layer_digest=layer + "\n")
    response = client.put(
        "/v2/alice/app/manifests/v1", data=body, content_type=OCI_MANIFEST, **headers
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "MANIFEST_INVALID"
    assert not Manifest.objects.exists()


def test_v2_urls_with_a_digest_and_a_trailing_newline_are_refused(client, public_repo):
    headers = bearer("alice", push_access("alice/app"))
    digest = blob_upload(client, "alice/app", b"content", headers)
    pull = bearer("alice", pull_access("alice/app"))
    assert client.get(f"/v2/alice/app/blobs/{digest}", **pull).status_code == 200
    blob = client.get(f"/v2/alice/app/blobs/{digest}%0A", **pull)
    assert blob.status_code == 400 and blob.json()["errors"][0]["code"] == "DIGEST_INVALID"
    manifest = client.get(f"/v2/alice/app/manifests/{digest}%0A", **pull)
    assert manifest.status_code == 404
    assert manifest.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"


def test_api_body_name_with_a_trailing_newline_never_makes_such_a_repository(alice):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=basic_auth("alice"))
    response = api.post(
        f"{API}/repositories/", {"namespace": "alice", "name": "new\n"}, format="json"
    )
    # DRF strips surrounding whitespace from the field; the newline never reaches a name.
    assert response.status_code == 201, response.content
    assert response.json()["full_name"] == "alice/new"
    assert list(Repository.objects.values_list("name", flat=True)) == ["new"]


def test_v2_page_size_with_a_trailing_newline_is_pagination_number_invalid(client, public_repo):
    pull = bearer("alice", pull_access("alice/app"))
    assert client.get("/v2/alice/app/tags/list?n=1", **pull).status_code == 200
    response = client.get("/v2/alice/app/tags/list?n=1%0A", **pull)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "PAGINATION_NUMBER_INVALID"
