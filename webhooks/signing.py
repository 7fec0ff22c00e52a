"""Standard Webhooks signing (standardwebhooks.com): `whsec_` secrets, `v1,` HMAC-SHA256.

The signed content is "<webhook-id>.<webhook-timestamp>.<body>"; receivers verify with any
Standard Webhooks library given the same `whsec_…` secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"  # noqa: S105 - a format prefix, not a secret
KEY_BYTES = 32
MIN_KEY_BYTES, MAX_KEY_BYTES = 24, 64


class InvalidSecret(ValueError):
    pass


def secret_generate() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """Return the raw HMAC key of a `whsec_<base64>` secret; raise InvalidSecret otherwise."""
    if not secret.startswith(SECRET_PREFIX):
        raise InvalidSecret("A secret has the form whsec_<base64 key>.")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidSecret("The part after whsec_ must be base64.") from exc
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise InvalidSecret(f"The key must be {MIN_KEY_BYTES} to {MAX_KEY_BYTES} bytes long.")
    return key


def signature(secret: str, *, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret: str, *, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, msg_id=msg_id, timestamp=timestamp, body=body),
    }
