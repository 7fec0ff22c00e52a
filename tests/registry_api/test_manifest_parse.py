"""The pure manifest parser: what it accepts, what it refuses and why."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_api.digests import digest_bytes
from registry_api.manifests import (
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_EMPTY,
    OCI_INDEX,
    OCI_MANIFEST,
    InvalidManifest,
    manifest_parse,
    media_type_base,
)

D1 = "sha256:" + "a" * 64
D2 = "sha256:" + "b" * 64
D512 = "sha512:" + "c" * 128
EMPTY = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"


def body(**document) -> bytes:
    return json.dumps({"schemaVersion": 2, **document}).encode()


def image(**extra) -> bytes:
    return body(
        config={"mediaType": "application/vnd.oci.image.config.v1+json", "digest": D1, "size": 7},
        layers=[{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": D2, "size": 5}],
        **extra,
    )


def test_oci_manifest_without_media_type_field():
    parsed = manifest_parse(image(), OCI_MANIFEST)
    assert parsed.media_type == OCI_MANIFEST
    assert parsed.required_blob_digests == [D1, D2]
    assert parsed.child_digests == []
    assert parsed.image_size == 12
    assert parsed.referrer_artifact_type == "application/vnd.oci.image.config.v1+json"
    assert not parsed.is_index


def test_media_type_from_the_body_when_content_type_is_generic():
    assert manifest_parse(image(mediaType=OCI_MANIFEST), "application/json").media_type == (
        OCI_MANIFEST
    )
    assert manifest_parse(image(), None).media_type == OCI_MANIFEST
    index = body(manifests=[])
    assert manifest_parse(index, "").media_type == OCI_INDEX


def test_content_type_parameters_are_ignored():
    assert media_type_base(f"{OCI_MANIFEST}; charset=utf-8") == OCI_MANIFEST
    assert manifest_parse(image(), f"{OCI_MANIFEST}; charset=utf-8").media_type == OCI_MANIFEST


def test_docker_manifest_requires_its_media_type():
    docker = image(mediaType=DOCKER_MANIFEST)
    assert manifest_parse(docker, DOCKER_MANIFEST).media_type == DOCKER_MANIFEST
    with pytest.raises(InvalidManifest):
        manifest_parse(image(), DOCKER_MANIFEST)


def test_docker_manifest_list_requires_platforms():
    child = {"mediaType": DOCKER_MANIFEST, "digest": D1, "size": 3}
    with pytest.raises(InvalidManifest, match="platform"):
        manifest_parse(
            body(mediaType=DOCKER_MANIFEST_LIST, manifests=[child]), DOCKER_MANIFEST_LIST
        )
    child["platform"] = {"architecture": "amd64", "os": "linux"}
    parsed = manifest_parse(
        body(mediaType=DOCKER_MANIFEST_LIST, manifests=[child, child]), DOCKER_MANIFEST_LIST
    )
    assert parsed.is_index
    assert parsed.child_digests == [D1]


def test_artifact_with_empty_config_and_subject():
    parsed = manifest_parse(
        body(
            artifactType="application/vnd.example+type",
            config={"mediaType": OCI_EMPTY, "digest": EMPTY, "size": 2},
            layers=[],
            subject={"mediaType": OCI_MANIFEST, "digest": D512, "size": 100},
            annotations={"org.opencontainers.image.created": "2024-01-01T00:00:00Z"},
        ),
        OCI_MANIFEST,
    )
    assert parsed.subject.digest == D512
    assert parsed.referrer_artifact_type == "application/vnd.example+type"
    assert parsed.required_blob_digests == [EMPTY]
    assert parsed.annotations == {"org.opencontainers.image.created": "2024-01-01T00:00:00Z"}


def test_layers_with_urls_are_optional():
    foreign = {"mediaType": "application/vnd.oci.image.layer.nondistributable.v1.tar", "digest": D2}
    parsed = manifest_parse(
        body(
            config={"mediaType": "c", "digest": D1, "size": 1},
            layers=[{**foreign, "size": 9, "urls": ["https://example.com/l"]}],
        ),
        OCI_MANIFEST,
    )
    assert parsed.required_blob_digests == [D1]
    assert parsed.optional_blob_digests == [D2]


@pytest.mark.parametrize(
    ("payload", "content_type", "reason"),
    [
        (b"{", OCI_MANIFEST, "JSON"),
        (b"[" * 100_000, OCI_MANIFEST, "nested"),
        (b"\xff\xfe", OCI_MANIFEST, "JSON"),
        (b"42", OCI_MANIFEST, "object"),
        (body(), "application/vnd.docker.distribution.manifest.v1+prettyjws", "media type"),
        (json.dumps({"schemaVersion": "2"}).encode(), OCI_MANIFEST, "schemaVersion"),
        (json.dumps({"schemaVersion": True}).encode(), OCI_MANIFEST, "schemaVersion"),
        (image(mediaType=OCI_INDEX), OCI_MANIFEST, "does not match"),
        (body(mediaType="application/x-unknown"), "application/json", "media type"),
        (body(layers=[]), OCI_MANIFEST, "config"),
        (body(config={"mediaType": "c", "digest": D1, "size": 1}), OCI_MANIFEST, "layers"),
        (image(manifests=[]), OCI_MANIFEST, "manifests"),
        (body(manifests={}), OCI_INDEX, "manifests"),
        (image(mediaType=DOCKER_MANIFEST, artifactType="x"), DOCKER_MANIFEST, "artifactType"),
        (
            image(mediaType=DOCKER_MANIFEST, subject={"mediaType": "m", "digest": D1, "size": 1}),
            DOCKER_MANIFEST,
            "subject",
        ),
        (image(annotations={"a": 1}), OCI_MANIFEST, "annotations"),
        (image(artifactType=5), OCI_MANIFEST, "artifactType"),
        (image(artifactType="not a media type"), OCI_MANIFEST, "artifactType"),
        (image(artifactType="a/" + "b" * 200), OCI_MANIFEST, "artifactType"),
        (image(annotations={"a": "nul\x00"}), OCI_MANIFEST, "NUL"),
    ],
)
def test_invalid_documents_are_refused_with_a_reason(payload, content_type, reason):
    with pytest.raises(InvalidManifest, match=reason):
        manifest_parse(payload, content_type)


@pytest.mark.parametrize(
    "bad",
    [
        {"digest": D1, "size": 1},
        {"mediaType": "m", "digest": "sha256:short", "size": 1},
        {"mediaType": "m", "digest": "SHA256:" + "a" * 64, "size": 1},
        {"mediaType": "m", "digest": "md5:" + "a" * 32, "size": 1},
        {"mediaType": "m", "digest": D1, "size": -1},
        {"mediaType": "m", "digest": D1, "size": 1.5},
        {"mediaType": "m", "digest": D1, "size": "1"},
        {"mediaType": "m", "digest": D1, "size": 2**63},
        {"mediaType": "m", "digest": D1, "size": 1, "urls": "https://x"},
        {"mediaType": "m", "digest": D1, "size": 1, "platform": {"os": "linux"}},
        {"mediaType": "m", "digest": D1, "size": 1, "annotations": []},
        "not an object",
    ],
)
def test_invalid_descriptors_are_refused(bad):
    with pytest.raises(InvalidManifest):
        manifest_parse(body(manifests=[bad]), OCI_INDEX)


def test_digest_bytes_hashes_with_both_algorithms():
    assert digest_bytes(b"{}") == EMPTY
    assert digest_bytes(b"{}", "sha512").startswith("sha512:")
    assert len(digest_bytes(b"{}", "sha512")) == len("sha512:") + 128


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
_keys = st.sampled_from(
    [
        "schemaVersion",
        "mediaType",
        "config",
        "layers",
        "manifests",
        "subject",
        "artifactType",
        "annotations",
        "digest",
        "size",
        "urls",
        "platform",
        "architecture",
        "os",
    ]
)
_shaped = st.recursive(
    st.sampled_from([2, D1, OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, "linux", -1, 2**64]) | _json,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_keys, children, max_size=6),
    max_leaves=30,
)


@given(
    document=_shaped,
    content_type=st.sampled_from(["", None, OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST_LIST, "x/y"]),
)
@settings(max_examples=100, deadline=None)
def test_any_json_parses_or_is_refused_cleanly(document, content_type):
    try:
        parsed = manifest_parse(json.dumps(document).encode(), content_type)
    except InvalidManifest as exc:
        assert exc.message
        json.dumps(exc.detail)  # the detail goes into the error body
    else:
        assert parsed.media_type in (OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST)
