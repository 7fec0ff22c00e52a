"""Registry bearer tokens (Docker token spec): ES256 JWTs signed by the index, checked by /v2/."""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from functools import cache

import jwt
from cryptography.hazmat.primitives import serialization
from django.conf import settings

from hub.names import name_canonical

ALGORITHM = "ES256"


@cache
def _private_key():
    return serialization.load_pem_private_key(settings.TOKEN_SIGNING_KEY.encode(), password=None)


def _public_key():
    return _private_key().public_key()


@cache
def key_id() -> str:
    """Return the libtrust-style kid: base32 of the first 240 bits of SHA-256(DER public key)."""
    der = _public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    encoded = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(encoded[i : i + 4] for i in range(0, len(encoded), 4))


def jwks() -> dict:
    """Return the public key set that verifies our tokens."""
    jwk = jwt.algorithms.ECAlgorithm.to_jwk(_public_key(), as_dict=True)
    jwk.update({"kid": key_id(), "alg": ALGORITHM, "use": "sig"})
    return {"keys": [jwk]}


def token_issue(
    *, subject: str, audience: str, access: list[dict], extra: dict | None = None
) -> tuple[str, datetime]:
    """Sign a token granting `access` ([{type, name, actions}]) with `extra` private claims;
    return it and its issue time."""
    now = datetime.now(UTC).replace(microsecond=0)
    claims = {
        "iss": settings.TOKEN_ISSUER,
        "sub": subject,
        "aud": audience,
        "iat": now,
        "nbf": now - timedelta(seconds=5),
        "exp": now + timedelta(seconds=settings.TOKEN_EXPIRES_IN),
        "jti": uuid.uuid4().hex,
        "access": access,
        **(extra or {}),
    }
    token = jwt.encode(claims, _private_key(), algorithm=ALGORITHM, headers={"kid": key_id()})
    return token, now


def token_verify(token: str) -> dict:
    """Return the claims of a valid token; raise jwt.InvalidTokenError otherwise.

    Only our algorithm is accepted, so `alg: none` and HMAC-with-public-key forgeries fail.
    """
    return jwt.decode(
        token,
        _public_key(),
        algorithms=[ALGORITHM],
        audience=settings.REGISTRY_SERVICE,
        issuer=settings.TOKEN_ISSUER,
        options={"require": ["exp", "nbf", "iat", "aud", "iss", "sub"]},
        leeway=10,
    )


def _resource_key(resource_type, name) -> str:
    # `centos` and `library/centos` are one repository: a grant on either holds for both.
    if resource_type == "repository" and isinstance(name, str):
        return name_canonical(name)
    return name


def token_actions(claims: dict, *, resource_type: str, name: str) -> set[str]:
    """Return the actions a verified token grants on one resource."""
    actions: set[str] = set()
    wanted = _resource_key(resource_type, name)
    for entry in claims.get("access") or []:
        if entry.get("type") == resource_type and (
            _resource_key(resource_type, entry.get("name")) == wanted
        ):
            actions.update(entry.get("actions") or [])
    if "*" in actions:
        actions.update({"pull", "push", "delete"})
    return actions
