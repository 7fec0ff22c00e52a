"""Checking one signature artifact against signing keys, with `cryptography` only.

Supported: cosign simple signing (the payload JSON is a layer, its base64 signature the layer
annotation `dev.cosignproject.cosign/signature`), sigstore bundles holding a DSSE envelope
signed with a key (cosign v3), and Notation JWS envelopes whose certificate chain ends at a
trust-store certificate. Keyless (Fulcio/Rekor) bundles and COSE envelopes are reported as
unsupported, never as verified.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from hub.signing_keys import KeyInvalid, certificate_load, cosign_key_load, signature_valid

SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
COSIGN_SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
COSIGN_PAYLOAD_TYPE = "cosign container image signature"
SIGSTORE_BUNDLE_PREFIX = "application/vnd.dev.sigstore.bundle"
JWS = "application/jose+json"
COSE = "application/cose"
IN_TOTO_PAYLOAD = "application/vnd.in-toto+json"
MAX_PAYLOAD_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Key:
    name: str
    kind: str  # "cosign" or "notation"
    pem: str


@dataclass(frozen=True)
class Layer:
    media_type: str
    digest: str
    annotations: dict


@dataclass(frozen=True)
class Verdict:
    key_name: str = ""  # set when verified
    reason: str = ""  # why not, when not

    @property
    def verified(self) -> bool:
        return bool(self.key_name)


def _b64(text: str, *, url: bool = False) -> bytes:
    text = text.strip()
    padded = text + "=" * (-len(text) % 4)
    try:
        return base64.urlsafe_b64decode(padded) if url else base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValueError("not base64") from error


def _json(data: bytes | None):
    try:
        return json.loads(data) if data is not None else None
    except ValueError:
        return None


def _cosign_keys(keys: Sequence[Key]):
    for key in keys:
        if key.kind == "cosign":
            try:
                yield key.name, cosign_key_load(key.pem)
            except KeyInvalid:
                continue


def simple_signing_verify(payload: bytes, signature_b64: str, *, digest: str, keys) -> Verdict:
    """A cosign simple-signing payload: signed by one of the keys, and about `digest`."""
    document = _json(payload)
    critical = document.get("critical") if isinstance(document, dict) else None
    image = critical.get("image") if isinstance(critical, dict) else None
    if not isinstance(image, dict) or critical.get("type") != COSIGN_PAYLOAD_TYPE:
        return Verdict(reason="the payload is not a cosign image signature")
    if image.get("docker-manifest-digest") != digest:
        return Verdict(reason="the signature is for another digest")
    try:
        signature = _b64(signature_b64)
    except ValueError:
        return Verdict(reason="the signature annotation is not base64")
    for name, public_key in _cosign_keys(keys):
        if signature_valid(public_key, signature, payload):
            return Verdict(key_name=name)
    return Verdict(reason="no signing key matches the signature")


def _pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: what a DSSE signature signs."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def _statement_names(statement, digest: str) -> bool:
    algorithm, _, hex_digest = digest.partition(":")
    subjects = statement.get("subject") if isinstance(statement, dict) else None
    return any(
        isinstance(subject, dict) and (subject.get("digest") or {}).get(algorithm) == hex_digest
        for subject in subjects or []
    )


def bundle_verify(data: bytes, *, digest: str, keys) -> Verdict:
    """A sigstore bundle: its DSSE envelope signed by one of the keys, its statement about us."""
    bundle = _json(data)
    envelope = bundle.get("dsseEnvelope") if isinstance(bundle, dict) else None
    if not isinstance(envelope, dict):
        return Verdict(reason="format unsupported (a bundle without a DSSE envelope)")
    try:
        payload = _b64(str(envelope.get("payload", "")))
        signatures = [_b64(str(item.get("sig", ""))) for item in envelope.get("signatures", [])]
    except (ValueError, AttributeError, TypeError):
        return Verdict(reason="the DSSE envelope is malformed")
    payload_type = str(envelope.get("payloadType", ""))
    if payload_type != IN_TOTO_PAYLOAD or not _statement_names(_json(payload), digest):
        return Verdict(reason="the signature is for another digest")
    signed = _pae(payload_type, payload)
    for name, public_key in _cosign_keys(keys):
        if any(signature_valid(public_key, signature, signed) for signature in signatures):
            return Verdict(key_name=name)
    return Verdict(reason="no signing key matches the signature")


_JWS_ALGORITHMS = {
    "ES256": hashes.SHA256,
    "ES384": hashes.SHA384,
    "ES512": hashes.SHA512,
    "PS256": hashes.SHA256,
    "PS384": hashes.SHA384,
    "PS512": hashes.SHA512,
}


def _jws_signature_valid(public_key, algorithm: str, signature: bytes, data: bytes) -> bool:
    digest = _JWS_ALGORITHMS[algorithm]()
    try:
        if algorithm.startswith("ES") and isinstance(public_key, ec.EllipticCurvePublicKey):
            # JWS carries r || s; cryptography wants DER.
            from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

            half = len(signature) // 2
            der = encode_dss_signature(
                int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
            )
            public_key.verify(der, data, ec.ECDSA(digest))
        elif algorithm.startswith("PS") and isinstance(public_key, rsa.RSAPublicKey):
            pss = padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
            public_key.verify(signature, data, pss, digest)
        else:
            return False
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def _chain_trusted(chain: list[x509.Certificate], trusted: list[tuple[str, x509.Certificate]]):
    """The name of the trust-store certificate the chain (leaf first) ends at, or ""."""
    for lower, upper in zip(chain, chain[1:], strict=False):
        try:
            lower.verify_directly_issued_by(upper)
        except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
            return ""
    for name, anchor in trusted:
        for certificate in chain:
            if certificate == anchor:
                return name
        try:
            chain[-1].verify_directly_issued_by(anchor)
        except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
            continue
        return name
    return ""


def jws_verify(data: bytes, *, digest: str, keys) -> Verdict:
    """A Notation JWS envelope (flattened JSON serialization)."""
    envelope = _json(data)
    if not isinstance(envelope, dict):
        return Verdict(reason="the JWS envelope is not JSON")
    try:
        protected_b64 = str(envelope["protected"])
        payload_b64 = str(envelope["payload"])
        protected = json.loads(_b64(protected_b64, url=True))
        payload = json.loads(_b64(payload_b64, url=True))
        signature = _b64(str(envelope["signature"]), url=True)
        chain = [
            x509.load_der_x509_certificate(_b64(item))
            for item in (envelope.get("header") or {}).get("x5c") or []
        ]
    except (KeyError, ValueError, TypeError, AttributeError):
        return Verdict(reason="the JWS envelope is malformed")
    algorithm = protected.get("alg") if isinstance(protected, dict) else None
    if algorithm not in _JWS_ALGORITHMS or not chain:
        return Verdict(reason="format unsupported (JWS algorithm or certificate chain)")
    target = payload.get("targetArtifact") if isinstance(payload, dict) else None
    if not isinstance(target, dict) or target.get("digest") != digest:
        return Verdict(reason="the signature is for another digest")
    signing_input = f"{protected_b64}.{payload_b64}".encode()
    if not _jws_signature_valid(chain[0].public_key(), algorithm, signature, signing_input):
        return Verdict(reason="the JWS signature does not match its certificate")
    trusted = []
    for key in keys:
        if key.kind == "notation":
            try:
                trusted.append((key.name, certificate_load(key.pem)))
            except KeyInvalid:
                continue
    name = _chain_trusted(chain, trusted)
    if not name:
        return Verdict(reason="no trust-store certificate matches the signature")
    return Verdict(key_name=name)


def artifact_verify(
    layers: Sequence[Layer], *, digest: str, keys: Sequence[Key], read: Callable[[str], bytes]
) -> Verdict:
    """The first verdict naming a key among the artifact's layers, else the first reason."""
    reasons = []
    for layer in layers:
        media_type = layer.media_type.lower()
        if media_type == SIMPLE_SIGNING:
            signature = layer.annotations.get(COSIGN_SIGNATURE_ANNOTATION, "")
            if not signature:
                verdict = Verdict(reason="the layer has no cosign signature annotation")
            else:
                payload = read(layer.digest)
                verdict = simple_signing_verify(payload, signature, digest=digest, keys=keys)
        elif media_type.startswith(SIGSTORE_BUNDLE_PREFIX):
            verdict = bundle_verify(read(layer.digest), digest=digest, keys=keys)
        elif media_type == JWS:
            verdict = jws_verify(read(layer.digest), digest=digest, keys=keys)
        elif media_type == COSE:
            verdict = Verdict(reason="format unsupported (COSE envelope)")
        else:
            continue
        if verdict.verified:
            return verdict
        reasons.append(verdict.reason)
    return Verdict(reason=reasons[0] if reasons else "format unsupported")
