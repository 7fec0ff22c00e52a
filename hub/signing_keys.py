"""Signing keys as `cryptography` objects: parse a PEM upload, name it, check a signature.

Cosign public keys are PEM `PUBLIC KEY` blocks (ECDSA P-256/P-384, RSA, Ed25519); Notation's
trust store holds X.509 certificates. Both are named by the sha256 of their public key's DER.
"""

from __future__ import annotations

import hashlib

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

MIN_RSA_BITS = 2048
_CURVES = (ec.SECP256R1, ec.SECP384R1, ec.SECP521R1)
_EC_HASHES = {256: hashes.SHA256, 384: hashes.SHA384, 521: hashes.SHA512}


class KeyInvalid(ValueError):
    """The upload is not a usable key of its kind; the message says why."""


def _check_public_key(public_key) -> None:
    if isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < MIN_RSA_BITS:
            raise KeyInvalid(f"RSA keys must have at least {MIN_RSA_BITS} bits.")
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        if not isinstance(public_key.curve, _CURVES):
            raise KeyInvalid("ECDSA keys must be on P-256, P-384 or P-521.")
    elif not isinstance(public_key, ed25519.Ed25519PublicKey):
        raise KeyInvalid("Only ECDSA, RSA and Ed25519 keys are supported.")


def cosign_key_load(pem: str):
    """The public key of a cosign `PUBLIC KEY` PEM block."""
    try:
        public_key = serialization.load_pem_public_key(pem.strip().encode())
    except (ValueError, TypeError, UnsupportedAlgorithm) as error:
        raise KeyInvalid("Not a PEM public key (-----BEGIN PUBLIC KEY-----).") from error
    _check_public_key(public_key)
    return public_key


def certificate_load(pem: str) -> x509.Certificate:
    try:
        certificate = x509.load_pem_x509_certificate(pem.strip().encode())
        _check_public_key(certificate.public_key())
    except (ValueError, TypeError, UnsupportedAlgorithm) as error:
        raise KeyInvalid("Not a PEM X.509 certificate (-----BEGIN CERTIFICATE-----).") from error
    return certificate


def key_public(kind: str, pem: str):
    """The public key of an upload of that kind ("cosign" or "notation")."""
    if kind == "notation":
        return certificate_load(pem).public_key()
    return cosign_key_load(pem)


def key_fingerprint(public_key) -> str:
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "sha256:" + hashlib.sha256(der).hexdigest()


def signature_valid(public_key, signature: bytes, data: bytes, *, rsa_pss: bool = False) -> bool:
    """Whether `signature` signs `data` with that key (ECDSA DER / RSA / Ed25519, SHA-2)."""
    try:
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            digest = _EC_HASHES.get(public_key.curve.key_size, hashes.SHA256)()
            public_key.verify(signature, data, ec.ECDSA(digest))
        elif isinstance(public_key, rsa.RSAPublicKey):
            if rsa_pss:
                pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
                public_key.verify(signature, data, pss, hashes.SHA256())
            else:
                public_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(signature, data)
        else:
            return False
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True
