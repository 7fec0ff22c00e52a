"""Verifying one signature artifact (registry_api.signatures), with signatures made here."""

from __future__ import annotations

import pytest

from registry_api.signatures import (
    COSIGN_SIGNATURE_ANNOTATION,
    SIMPLE_SIGNING,
    Key,
    Layer,
    artifact_verify,
    bundle_verify,
    jws_verify,
    simple_signing_verify,
)
from tests import signing

DIGEST = "sha256:" + "ab" * 32
OTHER = "sha256:" + "cd" * 32


@pytest.mark.parametrize("make_key", [signing.ecdsa_key, signing.rsa_key, signing.ed25519_key])
def test_a_cosign_signature_verifies_with_its_key_of_each_algorithm(make_key):
    private_key = make_key()
    payload, signature = signing.cosign_signature(private_key, "example/app", DIGEST)
    keys = [Key("ci", "cosign", signing.public_pem(private_key))]
    assert simple_signing_verify(payload, signature, digest=DIGEST, keys=keys).key_name == "ci"


def test_a_cosign_signature_does_not_verify_with_another_key():
    payload, signature = signing.cosign_signature(signing.ecdsa_key(), "example/app", DIGEST)
    keys = [Key("other", "cosign", signing.public_pem(signing.ecdsa_key()))]
    verdict = simple_signing_verify(payload, signature, digest=DIGEST, keys=keys)
    assert not verdict.verified
    assert verdict.reason == "no signing key matches the signature"


def test_a_cosign_signature_for_another_digest_is_not_a_signature_of_this_one():
    private_key = signing.ecdsa_key()
    payload, signature = signing.cosign_signature(private_key, "example/app", OTHER)
    keys = [Key("ci", "cosign", signing.public_pem(private_key))]
    verdict = simple_signing_verify(payload, signature, digest=DIGEST, keys=keys)
    assert verdict.reason == "the signature is for another digest"


def test_a_tampered_payload_does_not_verify():
    private_key = signing.ecdsa_key()
    payload, signature = signing.cosign_signature(private_key, "example/app", DIGEST)
    tampered = payload.replace(b"example/app", b"example/evil")
    keys = [Key("ci", "cosign", signing.public_pem(private_key))]
    assert not simple_signing_verify(tampered, signature, digest=DIGEST, keys=keys).verified


@pytest.mark.parametrize("garbage", [b"", b"not json", b"[]", b'{"critical": 1}'])
def test_garbage_payloads_are_reasons_not_errors(garbage):
    keys = [Key("ci", "cosign", signing.public_pem(signing.ecdsa_key()))]
    assert simple_signing_verify(garbage, "AAAA", digest=DIGEST, keys=keys).reason


def test_artifact_verify_reads_the_layer_and_its_annotation():
    private_key = signing.ecdsa_key()
    payload, signature = signing.cosign_signature(private_key, "example/app", DIGEST)
    layer = Layer(SIMPLE_SIGNING, "sha256:payload", {COSIGN_SIGNATURE_ANNOTATION: signature})
    keys = [Key("ci", "cosign", signing.public_pem(private_key))]
    verdict = artifact_verify(
        [layer], digest=DIGEST, keys=keys, read={"sha256:payload": payload}.get
    )
    assert verdict.key_name == "ci"
    unsigned = Layer(SIMPLE_SIGNING, "sha256:payload", {})
    verdict = artifact_verify([unsigned], digest=DIGEST, keys=keys, read=lambda digest: payload)
    assert verdict.reason == "the layer has no cosign signature annotation"


def test_a_dsse_bundle_verifies_with_its_key_only():
    private_key = signing.ecdsa_key()
    bundle = signing.dsse_bundle(private_key, DIGEST)
    keys = [Key("ci", "cosign", signing.public_pem(private_key))]
    assert bundle_verify(bundle, digest=DIGEST, keys=keys).key_name == "ci"
    assert not bundle_verify(bundle, digest=OTHER, keys=keys).verified
    others = [Key("other", "cosign", signing.public_pem(signing.ecdsa_key()))]
    assert not bundle_verify(bundle, digest=DIGEST, keys=others).verified


def test_a_notation_jws_verifies_against_its_trust_store_certificate():
    private_key = signing.ecdsa_key()
    cert = signing.certificate(private_key)
    envelope = signing.notation_jws(private_key, cert, DIGEST, 123)
    trusted = [Key("release", "notation", signing.certificate_pem(cert))]
    assert jws_verify(envelope, digest=DIGEST, keys=trusted).key_name == "release"
    assert jws_verify(envelope, digest=OTHER, keys=trusted).reason == (
        "the signature is for another digest"
    )
    stranger = signing.certificate(signing.ecdsa_key(), "someone else")
    untrusted = [Key("other", "notation", signing.certificate_pem(stranger))]
    assert jws_verify(envelope, digest=DIGEST, keys=untrusted).reason == (
        "no trust-store certificate matches the signature"
    )
    # A cosign key is no trust-store certificate, even for the same key pair.
    as_cosign = [Key("ci", "cosign", signing.public_pem(private_key))]
    assert not jws_verify(envelope, digest=DIGEST, keys=as_cosign).verified


def test_a_cose_envelope_is_reported_unsupported():
    layer = Layer("application/cose", "sha256:x", {})
    verdict = artifact_verify([layer], digest=DIGEST, keys=[], read=lambda digest: b"")
    assert verdict.reason == "format unsupported (COSE envelope)"
