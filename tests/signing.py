"""Signatures made in tests with `cryptography`, in the formats cosign and Notation write."""

from __future__ import annotations

import base64
import datetime
import json

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID


def ecdsa_key():
    return ec.generate_private_key(ec.SECP256R1())


def rsa_key(bits: int = 2048):
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def ed25519_key():
    return ed25519.Ed25519PrivateKey.generate()


def public_pem(private_key) -> str:
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def sign(private_key, data: bytes) -> bytes:
    """What cosign's signers produce: ECDSA DER/SHA-256, RSA PKCS#1 v1.5/SHA-256, Ed25519."""
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        return private_key.sign(data, ec.ECDSA(hashes.SHA256()))
    if isinstance(private_key, rsa.RSAPrivateKey):
        from cryptography.hazmat.primitives.asymmetric import padding

        return private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return private_key.sign(data)


def simple_signing_payload(reference: str, digest: str) -> bytes:
    """cosign's simple-signing payload (pkg/cosign/payload), as `cosign sign` writes it."""
    document = {
        "critical": {
            "identity": {"docker-reference": reference},
            "image": {"docker-manifest-digest": digest},
            "type": "cosign container image signature",
        },
        "optional": None,
    }
    return json.dumps(document, separators=(",", ":")).encode()


def cosign_signature(private_key, reference: str, digest: str) -> tuple[bytes, str]:
    """(payload, base64 signature): the layer blob and its signature annotation."""
    payload = simple_signing_payload(reference, digest)
    return payload, base64.b64encode(sign(private_key, payload)).decode()


def dsse_bundle(private_key, digest: str) -> bytes:
    """A sigstore v0.3 bundle with a DSSE envelope over an in-toto statement about `digest`."""
    algorithm, _, hex_digest = digest.partition(":")
    statement = json.dumps(
        {
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "image", "digest": {algorithm: hex_digest}}],
            "predicateType": "https://sigstore.dev/cosign/sign/v1",
            "predicate": {},
        }
    ).encode()
    payload_type = b"application/vnd.in-toto+json"
    pae = b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type, len(statement), statement)
    bundle = {
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"publicKey": {"hint": ""}},
        "dsseEnvelope": {
            "payload": base64.b64encode(statement).decode(),
            "payloadType": payload_type.decode(),
            "signatures": [{"sig": base64.b64encode(sign(private_key, pae)).decode()}],
        },
    }
    return json.dumps(bundle).encode()


def certificate(private_key, common_name: str = "dockyard test signer") -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(private_key, hashes.SHA256())
    )


def certificate_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def notation_jws(private_key, cert: x509.Certificate, digest: str, size: int) -> bytes:
    """A Notation JWS envelope (ES256) over the target artifact descriptor."""
    protected = {"alg": "ES256", "cty": "application/vnd.cncf.notary.payload.v1+json"}
    payload = {
        "targetArtifact": {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": digest,
            "size": size,
        }
    }
    protected_b64 = _b64url(json.dumps(protected).encode())
    payload_b64 = _b64url(json.dumps(payload).encode())
    der = private_key.sign(f"{protected_b64}.{payload_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    envelope = {
        "payload": payload_b64,
        "protected": protected_b64,
        "header": {
            "x5c": [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]
        },
        "signature": _b64url(signature),
    }
    return json.dumps(envelope).encode()
