"""`GET /v2/<name>/referrers/<digest>`: an OCI index of the manifests whose subject is <digest>."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from registry_api.digests import digest_bytes
from registry_api.manifests import OCI_EMPTY, OCI_INDEX, OCI_MANIFEST
from tests.registry_api.conftest import bearer, blob_upload, pull_access, push_access
from tests.registry_api.test_manifests import EMPTY_DIGEST, dumps, image_body, manifest_put

pytestmark = pytest.mark.django_db

SIGNATURE = "application/vnd.example.signature"
SBOM = "application/spdx+json"


@pytest.fixture
def headers(public_repo):
    return bearer("alice", push_access("alice/app"))


@pytest.fixture
def subject(client, headers):
    body = image_body(client, "alice/app", headers)
    assert manifest_put(client, "alice/app", "latest", body, headers).status_code == 201
    return body


def referrer_push(
    client, headers, subject: bytes, *, artifact_type=None, config_type=None, annotations=None
):
    """Push an artifact whose subject is `subject`; return its body."""
    blob_upload(client, "alice/app", b"{}", headers)
    payload = f"payload of {artifact_type or config_type}".encode()
    blob_upload(client, "alice/app", payload, headers)
    config = {"mediaType": config_type or OCI_EMPTY, "digest": EMPTY_DIGEST, "size": 2}
    document = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config,
        "layers": [
            {
                "mediaType": "application/octet-stream",
                "digest": digest_bytes(payload),
                "size": len(payload),
            }
        ],
        "subject": {
            "mediaType": OCI_MANIFEST,
            "digest": digest_bytes(subject),
            "size": len(subject),
        },
    }
    if artifact_type:
        document["artifactType"] = artifact_type
    if annotations:
        document["annotations"] = annotations
    body = dumps(document)
    response = manifest_put(client, "alice/app", digest_bytes(body), body, headers)
    assert response.status_code == 201, response.content
    assert response["OCI-Subject"] == digest_bytes(subject)
    return body


def test_referrers_list_artifact_types_and_annotations(client, headers, subject):
    signature = referrer_push(
        client,
        headers,
        subject,
        artifact_type=SIGNATURE,
        annotations={"org.example.signer": "alice"},
    )
    sbom = referrer_push(client, headers, subject, config_type=SBOM)
    response = client.get(f"/v2/alice/app/referrers/{digest_bytes(subject)}", **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == OCI_INDEX
    assert "OCI-Filters-Applied" not in response
    assert json.loads(response.content) == {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {
                "mediaType": OCI_MANIFEST,
                "digest": digest_bytes(signature),
                "size": len(signature),
                "artifactType": SIGNATURE,
                "annotations": {"org.example.signer": "alice"},
            },
            {
                "mediaType": OCI_MANIFEST,
                "digest": digest_bytes(sbom),
                "size": len(sbom),
                "artifactType": SBOM,
            },
        ],
    }


def test_artifact_type_filter(client, headers, subject):
    referrer_push(client, headers, subject, artifact_type=SIGNATURE)
    sbom = referrer_push(client, headers, subject, config_type=SBOM)
    url = f"/v2/alice/app/referrers/{digest_bytes(subject)}?artifactType={quote(SBOM, safe='')}"
    response = client.get(url, **headers)
    assert response["OCI-Filters-Applied"] == "artifactType"
    assert [d["digest"] for d in response.json()["manifests"]] == [digest_bytes(sbom)]
    none = client.get(url.replace("spdx%2Bjson", "none"), **headers)
    assert none.json()["manifests"] == []
    assert none["OCI-Filters-Applied"] == "artifactType"


def test_unknown_subject_is_an_empty_index(client, headers, subject):
    response = client.get(f"/v2/alice/app/referrers/sha256:{'2' * 64}", **headers)
    assert response.status_code == 200
    assert response.json() == {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}


def test_referrers_are_per_repository(client, headers, subject, private_repo):
    referrer_push(client, headers, subject, artifact_type=SIGNATURE)
    other = client.get(
        f"/v2/alice/secret/referrers/{digest_bytes(subject)}",
        **bearer("alice", pull_access("alice/secret")),
    )
    assert other.json()["manifests"] == []


@pytest.mark.parametrize(
    "digest", ["sha256:abc", "notadigest", f"md5:{'0' * 32}", f"sha256:{'A' * 64}"]
)
def test_invalid_digest_is_400(client, headers, public_repo, digest):
    response = client.get(f"/v2/alice/app/referrers/{digest}", **headers)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "DIGEST_INVALID"


def test_private_repository_referrers_look_absent(client, private_repo, charlie):
    digest = f"sha256:{'3' * 64}"
    hidden = client.get(f"/v2/alice/secret/referrers/{digest}", **bearer("charlie", []))
    absent = client.get(f"/v2/alice/nothing/referrers/{digest}", **bearer("charlie", []))
    assert hidden.status_code == absent.status_code == 401
    assert hidden.content == absent.content
