"""Signatures end to end inside Django: referrers pushed over /v2/, the tag page and REST API
showing them, verdicts against signing keys (cached, invalidated by key changes), the
"require a verified signature to pull" rule, and private repositories staying invisible."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from hub.services.signing_keys import signing_key_add, signing_key_delete
from registry_api.digests import digest_bytes
from registry_api.manifests import OCI_EMPTY, OCI_MANIFEST
from registry_api.models import SignatureCheck
from tests import signing
from tests.conftest import basic_auth
from tests.registry_api.conftest import bearer, blob_upload, image_push, pull_access, push_access

pytestmark = pytest.mark.django_db

COSIGN_SIG = "application/vnd.dev.cosign.artifact.sig.v1+json"
SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
EMPTY_DIGEST = digest_bytes(b"{}")
API = "/api/v1"


def _descriptor(media_type: str, data: bytes, **extra) -> dict:
    return {"mediaType": media_type, "digest": digest_bytes(data), "size": len(data), **extra}


def artifact_push(client, name, subject, *, artifact_type, layers, annotations=None, tag=None):
    """Push an OCI artifact (layers: [(media type, bytes, annotations)]) referring to subject."""
    headers = bearer(name.split("/")[0], push_access(name))
    blob_upload(client, name, b"{}", headers)
    descriptors = []
    for media_type, data, layer_annotations in layers:
        blob_upload(client, name, data, headers)
        descriptors.append(_descriptor(media_type, data, annotations=layer_annotations))
    document = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": {"mediaType": OCI_EMPTY, "digest": EMPTY_DIGEST, "size": 2},
        "layers": descriptors,
        "subject": {"mediaType": OCI_MANIFEST, "digest": subject, "size": 100},
    }
    if annotations:
        document["annotations"] = annotations
    body = json.dumps(document).encode()
    answer = client.put(
        f"/v2/{name}/manifests/{tag or digest_bytes(body)}",
        data=body,
        content_type=OCI_MANIFEST,
        **headers,
    )
    assert answer.status_code == 201, answer.content
    return digest_bytes(body)


def cosign_sign(client, name, digest, private_key) -> str:
    payload, signature = signing.cosign_signature(private_key, f"localhost/{name}", digest)
    return artifact_push(
        client,
        name,
        digest,
        artifact_type=COSIGN_SIG,
        layers=[(SIMPLE_SIGNING, payload, {"dev.cosignproject.cosign/signature": signature})],
        annotations={"org.opencontainers.image.created": "2026-01-02T03:04:05Z"},
    )


@pytest.fixture
def key():
    return signing.ecdsa_key()


@pytest.fixture
def signed(client, public_repo, key):
    """alice/app: `signed` carries a cosign signature by `key`, `plain` none."""
    digest = image_push(client, "alice/app", "signed", b"signed layer")
    image_push(client, "alice/app", "plain", b"plain layer")
    cosign_sign(client, "alice/app", digest, key)
    return digest


def _pull(client, name, reference, who="alice"):
    return client.get(
        f"/v2/{name}/manifests/{reference}",
        HTTP_ACCEPT=OCI_MANIFEST,
        **bearer(who, pull_access(name)),
    )


def _status(client, tag, who=None):
    api = APIClient()
    if who:
        api.credentials(HTTP_AUTHORIZATION=basic_auth(who))
    return api.get(f"{API}/repositories/alice/app/tags/{tag}/signature/").json()


def test_a_signature_is_verified_by_its_key_and_not_by_another(client, alice, signed, key):
    signing_key_add(
        namespace=alice.namespace,
        name="other",
        kind="cosign",
        pem=signing.public_pem(signing.ecdsa_key()),
    )
    assert _status(client, "signed")["state"] == "unverified"
    assert _status(client, "signed")["reason"] == "no signing key matches the signature"
    signing_key_add(
        namespace=alice.namespace, name="ci", kind="cosign", pem=signing.public_pem(key)
    )
    assert _status(client, "signed") == {
        "digest": signed,
        "state": "verified",
        "key_name": "ci",
        "reason": "",
    }
    assert _status(client, "plain")["state"] == "unsigned"


def test_a_registry_wide_key_verifies_every_namespace(client, signed, key):
    signing_key_add(namespace=None, name="registry", kind="cosign", pem=signing.public_pem(key))
    assert _status(client, "signed")["key_name"] == "registry"


def test_verdicts_are_cached_and_invalidated_when_keys_change(client, alice, signed, key):
    added = signing_key_add(
        namespace=alice.namespace, name="ci", kind="cosign", pem=signing.public_pem(key)
    )
    assert _status(client, "signed")["state"] == "verified"
    check = SignatureCheck.objects.get(digest=signed)
    assert _status(client, "signed")["state"] == "verified"
    assert SignatureCheck.objects.get(digest=signed).checked_at == check.checked_at  # cached
    signing_key_delete(key=added)
    assert _status(client, "signed")["reason"] == "no signing keys are configured"


def test_a_new_signature_changes_the_cached_verdict(client, alice, public_repo, key):
    digest = image_push(client, "alice/app", "later", b"later layer")
    signing_key_add(
        namespace=alice.namespace, name="ci", kind="cosign", pem=signing.public_pem(key)
    )
    assert _status(client, "later")["state"] == "unsigned"
    cosign_sign(client, "alice/app", digest, key)
    assert _status(client, "later")["state"] == "verified"


def test_another_namespaces_key_does_not_verify(client, bob, signed, key):
    signing_key_add(
        namespace=bob.namespace, name="bobs", kind="cosign", pem=signing.public_pem(key)
    )
    assert _status(client, "signed")["reason"] == "no signing keys are configured"


def test_required_signature_refuses_unsigned_and_unverified_pulls(
    client, alice, public_repo, signed, key
):
    public_repo.require_signature = True
    public_repo.save()
    plain = _pull(client, "alice/app", "plain")
    assert plain.status_code == 403
    error = plain.json()["errors"][0]
    assert error["code"] == "DENIED"
    plain_digest = error["detail"]["digest"]
    assert error["message"] == (f"alice/app requires a verified signature; {plain_digest} has none")
    # Signed, but no key vouches for it yet; by digest as well as by tag, HEAD as well as GET.
    unverified = _pull(client, "alice/app", signed)
    assert unverified.status_code == 403
    assert (
        "is not verified: no signing keys are configured"
        in unverified.json()["errors"][0]["message"]
    )
    head = client.head(
        "/v2/alice/app/manifests/signed", **bearer("alice", pull_access("alice/app"))
    )
    assert head.status_code == 403
    signing_key_add(
        namespace=alice.namespace, name="ci", kind="cosign", pem=signing.public_pem(key)
    )
    assert _pull(client, "alice/app", "signed").status_code == 200
    assert _pull(client, "alice/app", signed).status_code == 200
    # The signature itself and the referrers list stay readable (cosign verify needs them).
    referrers = client.get(
        f"/v2/alice/app/referrers/{signed}", **bearer("alice", pull_access("alice/app"))
    ).json()
    (signature,) = referrers["manifests"]
    assert _pull(client, "alice/app", signature["digest"]).status_code == 200


def test_the_tag_page_shows_referrers_by_kind_and_the_verdict(client, alice, signed, key):
    signing_key_add(
        namespace=alice.namespace, name="ci", kind="cosign", pem=signing.public_pem(key)
    )
    artifact_push(
        client,
        "alice/app",
        signed,
        artifact_type="application/spdx+json",
        layers=[("application/spdx+json", b'{"spdxVersion": "SPDX-2.3"}', {})],
    )
    page = client.get("/r/alice/app/-/tags/signed/").content.decode()
    assert "Verified by key ci" in page
    assert "Signatures" in page and "SBOMs" in page
    assert COSIGN_SIG in page and "org.opencontainers.image.created=2026-01-02T03:04:05Z" in page
    sbom_blob = digest_bytes(b'{"spdxVersion": "SPDX-2.3"}')
    assert f"/r/alice/app/-/blobs/{sbom_blob}/" in page
    download = client.get(f"/r/alice/app/-/blobs/{sbom_blob}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b'{"spdxVersion": "SPDX-2.3"}'
    assert "No signature" in client.get("/r/alice/app/-/tags/plain/").content.decode()


def test_the_referrers_api_lists_kinds_with_download_links(client, signed):
    body = APIClient().get(f"{API}/repositories/alice/app/tags/signed/referrers/").json()
    assert body["count"] == 1
    (referrer,) = body["results"]
    assert referrer["kind"] == "signature" and referrer["artifact_type"] == COSIGN_SIG
    assert referrer["created"] == "2026-01-02T03:04:05Z"
    assert referrer["source"] == "subject" and referrer["refers_to"] == signed
    assert referrer["download_url"].startswith("http://testserver/r/alice/app/-/blobs/sha256:")


def test_private_referrers_and_blobs_are_invisible_to_outsiders(
    client, alice, bob, charlie, private_repo, key
):
    digest = image_push(client, "alice/secret", "1", b"secret layer")
    cosign_sign(client, "alice/secret", digest, key)
    url = f"{API}/repositories/alice/secret/tags/1/referrers/"
    absent = f"{API}/repositories/alice/absent/tags/1/referrers/"
    for who in (None, charlie):
        api = APIClient()
        if who:
            api.credentials(HTTP_AUTHORIZATION=basic_auth(who.username))
        assert api.get(url).status_code == 404
        assert api.get(url).json() == api.get(absent).json()
        assert api.get(url.replace("referrers", "signature")).status_code == 404
    member = APIClient()
    member.credentials(HTTP_AUTHORIZATION=basic_auth("bob"))
    (referrer,) = member.get(url).json()["results"]
    blob = referrer["download_url"].removeprefix("http://testserver")
    client.force_login(charlie)
    assert client.get(blob).status_code == 404
    assert client.get("/r/alice/secret/-/tags/1/").status_code == 404
    client.force_login(bob)
    assert client.get(blob).status_code == 200


def test_a_blob_of_another_repository_is_not_downloadable_through_this_one(
    client, signed, private_repo
):
    secret = b"only in the secret repository"
    blob_upload(client, "alice/secret", secret, bearer("alice", push_access("alice/secret")))
    assert client.get(f"/r/alice/app/-/blobs/{digest_bytes(secret)}/").status_code == 404
    assert client.get("/r/alice/app/-/blobs/not-a-digest/").status_code == 404


def test_the_signed_search_filter_keeps_repositories_with_a_verified_tag(
    client, alice, signed, key
):
    other = image_push(client, "alice/other", "1", b"other layer")
    cosign_sign(client, "alice/other", other, signing.ecdsa_key())  # signed by an unknown key
    image_push(client, "alice/unsigned", "1", b"unsigned layer")
    api = APIClient()

    def names(**params):
        results = api.get(f"{API}/search/", params).json()["results"]
        return sorted(result["full_name"] for result in results)

    assert names(signed="true") == []
    signing_key_add(
        namespace=alice.namespace, name="ci", kind="cosign", pem=signing.public_pem(key)
    )
    assert names(signed="true") == ["alice/app"]
    assert len(names()) == 3
    page = client.get("/search/", {"signed": "1"}).content.decode()
    assert "alice/app" in page and "alice/other" not in page


def _buildx_index(client, name: str) -> tuple[str, str, str]:
    """Push what `docker buildx build --provenance` pushes: an image, its attestation manifest
    and an index listing both. Return (index, image, attestation) digests."""
    headers = bearer(name.split("/")[0], push_access(name))
    image = image_push(client, name, "image-only", b"buildx layer")
    image_body = client.get(
        f"/v2/{name}/manifests/{image}", HTTP_ACCEPT=OCI_MANIFEST, **headers
    ).content
    statement = b'{"_type": "https://in-toto.io/Statement/v0.1", "predicateType": "slsa"}'
    config = b'{"architecture": "unknown", "os": "unknown"}'
    for data in (statement, config):
        blob_upload(client, name, data, headers)
    attestation = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": _descriptor("application/vnd.oci.image.config.v1+json", config),
            "layers": [
                _descriptor(
                    "application/vnd.in-toto+json",
                    statement,
                    annotations={"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"},
                )
            ],
        }
    ).encode()
    attestation_digest = digest_bytes(attestation)
    assert (
        client.put(
            f"/v2/{name}/manifests/{attestation_digest}",
            data=attestation,
            content_type=OCI_MANIFEST,
            **headers,
        ).status_code
        == 201
    )
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                _descriptor(
                    OCI_MANIFEST, image_body, platform={"architecture": "amd64", "os": "linux"}
                ),
                _descriptor(
                    OCI_MANIFEST,
                    attestation,
                    platform={"architecture": "unknown", "os": "unknown"},
                    annotations={
                        "vnd.docker.reference.type": "attestation-manifest",
                        "vnd.docker.reference.digest": image,
                    },
                ),
            ],
        }
    ).encode()
    answer = client.put(
        f"/v2/{name}/manifests/multi",
        data=index,
        content_type="application/vnd.oci.image.index.v1+json",
        **headers,
    )
    assert answer.status_code == 201, answer.content
    return digest_bytes(index), image, attestation_digest


def test_buildx_attestation_manifests_inside_an_index_are_listed(client, public_repo):
    index, image, attestation = _buildx_index(client, "alice/app")
    body = APIClient().get(f"{API}/repositories/alice/app/tags/multi/referrers/").json()
    (referrer,) = body["results"]
    assert referrer["kind"] == "attestation" and referrer["source"] == "index"
    assert referrer["digest"] == attestation and referrer["refers_to"] == image
    assert referrer["artifact_type"] == "application/vnd.in-toto+json"  # not its image config
    assert referrer["annotations"]["vnd.docker.reference.type"] == "attestation-manifest"
    page = client.get("/r/alice/app/-/tags/multi/").content.decode()
    assert "Attestations" in page and "No signature" in page


def test_a_verified_index_lets_its_platforms_be_pulled_by_digest(client, alice, public_repo, key):
    index, image, attestation = _buildx_index(client, "alice/app")
    public_repo.require_signature = True
    public_repo.save()
    signing_key_add(
        namespace=alice.namespace, name="ci", kind="cosign", pem=signing.public_pem(key)
    )
    assert _pull(client, "alice/app", image).status_code == 403  # neither it nor its index
    cosign_sign(client, "alice/app", index, key)
    for reference in ("multi", image, attestation):
        answer = client.get(
            f"/v2/alice/app/manifests/{reference}",
            HTTP_ACCEPT=f"{OCI_MANIFEST}, application/vnd.oci.image.index.v1+json",
            **bearer("alice", pull_access("alice/app")),
        )
        assert answer.status_code == 200, (reference, answer.content)


def test_the_setting_is_for_admins_in_the_api_and_the_settings_page(
    client, alice, bob, private_repo
):
    url = f"{API}/repositories/alice/secret/"
    member = APIClient()
    member.credentials(HTTP_AUTHORIZATION=basic_auth("bob"))
    assert member.get(url).json()["require_signature"] is False
    assert member.patch(url, {"require_signature": True}, format="json").status_code == 403
    owner = APIClient()
    owner.credentials(HTTP_AUTHORIZATION=basic_auth("alice"))
    changed = owner.patch(url, {"require_signature": True}, format="json")
    assert changed.status_code == 200 and changed.json()["require_signature"] is True
    client.force_login(alice)
    page = client.get("/r/alice/secret/-/settings/").content.decode()
    assert "Require a verified signature to pull" in page
    client.post("/r/alice/secret/-/settings/", {"is_private": "on", "comments_enabled": "on"})
    private_repo.refresh_from_db()
    assert private_repo.require_signature is False and private_repo.is_private


def test_an_image_dressed_as_a_referrer_is_still_refused(client, alice, public_repo, signed, key):
    """A `subject` or a signature artifactType does not make runnable layers exempt."""
    public_repo.require_signature = True
    public_repo.save()
    layer = b"a runnable filesystem"
    disguised = artifact_push(
        client,
        "alice/app",
        signed,
        artifact_type=COSIGN_SIG,
        layers=[("application/vnd.oci.image.layer.v1.tar", layer, {})],
        tag="disguised",
    )
    answer = _pull(client, "alice/app", "disguised")
    assert answer.status_code == 403, answer.content
    assert answer.json()["errors"][0]["detail"]["digest"] == disguised


def test_a_notation_signature_verifies_against_a_trust_store_certificate(
    client, alice, public_repo
):
    digest = image_push(client, "alice/app", "notarized", b"notarized layer")
    private_key = signing.ecdsa_key()
    cert = signing.certificate(private_key)
    artifact_push(
        client,
        "alice/app",
        digest,
        artifact_type="application/vnd.cncf.notary.signature",
        layers=[("application/jose+json", signing.notation_jws(private_key, cert, digest, 1), {})],
    )
    assert _status(client, "notarized")["reason"] == "no signing keys are configured"
    signing_key_add(
        namespace=alice.namespace,
        name="release",
        kind="notation",
        pem=signing.certificate_pem(cert),
    )
    assert _status(client, "notarized")["key_name"] == "release"


def test_a_cosign_v3_bundle_referrer_verifies_with_its_key(client, alice, public_repo, key):
    digest = image_push(client, "alice/app", "bundled", b"bundled layer")
    bundle_type = "application/vnd.dev.sigstore.bundle.v0.3+json"
    artifact_push(
        client,
        "alice/app",
        digest,
        artifact_type=bundle_type,
        layers=[(bundle_type, signing.dsse_bundle(key, digest), {})],
    )
    signing_key_add(
        namespace=alice.namespace, name="ci", kind="cosign", pem=signing.public_pem(key)
    )
    assert _status(client, "bundled")["key_name"] == "ci"
    (referrer,) = (
        APIClient().get(f"{API}/repositories/alice/app/tags/bundled/referrers/").json()["results"]
    )
    assert referrer["kind"] == "signature" and referrer["artifact_type"] == bundle_type
