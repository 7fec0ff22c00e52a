"""hub.registry_tokens.token_verify refuses every token the index did not sign as it should."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings

from hub.registry_tokens import _private_key, key_id, token_actions, token_issue, token_verify

ACCESS = [{"type": "repository", "name": "alice/app", "actions": ["pull", "push"]}]


def _claims(**overrides) -> dict:
    now = datetime.now(UTC)
    claims = {
        "iss": settings.TOKEN_ISSUER,
        "sub": "alice",
        "aud": settings.REGISTRY_SERVICE,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=5),
        "jti": "x",
        "access": ACCESS,
    }
    claims.update(overrides)
    return claims


def _sign(claims: dict, key=None) -> str:
    return jwt.encode(claims, key or _private_key(), algorithm="ES256", headers={"kid": key_id()})


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_issued_token_verifies_and_grants():
    token, _issued = token_issue(subject="alice", audience=settings.REGISTRY_SERVICE, access=ACCESS)
    claims = token_verify(token)
    assert token_actions(claims, resource_type="repository", name="alice/app") == {
        "pull",
        "push",
    }
    assert token_actions(claims, resource_type="repository", name="alice/other") == set()
    assert jwt.get_unverified_header(token)["kid"] == key_id()


def test_forged_signature_refused():
    other_key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(jwt.InvalidTokenError):
        token_verify(_sign(_claims(), key=other_key))


def test_tampered_payload_refused():
    header, _payload, signature = _sign(_claims()).split(".")
    claims = _claims(access=[{"type": "repository", "name": "bob/x", "actions": ["push"]}])
    forged = ".".join([header, _b64(json.loads(json.dumps(claims, default=str))), signature])
    with pytest.raises(jwt.InvalidTokenError):
        token_verify(forged)


def test_alg_none_refused():
    claims = {k: int(v.timestamp()) if isinstance(v, datetime) else v for k, v in _claims().items()}
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    with pytest.raises(jwt.InvalidTokenError):
        token_verify(unsigned)


def test_hmac_with_public_key_refused():
    public_pem = (
        _private_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    claims = {k: int(v.timestamp()) if isinstance(v, datetime) else v for k, v in _claims().items()}
    header = _b64({"alg": "HS256", "typ": "JWT"})
    signing_input = f"{header}.{_b64(claims)}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    token = signing_input + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    with pytest.raises(jwt.InvalidTokenError):
        token_verify(token)


def test_wrong_audience_refused():
    with pytest.raises(jwt.InvalidTokenError):
        token_verify(_sign(_claims(aud="another-registry")))


def test_wrong_issuer_refused():
    with pytest.raises(jwt.InvalidTokenError):
        token_verify(_sign(_claims(iss="someone-else")))


def test_expired_token_is_refused():
    past = datetime.now(UTC) - timedelta(hours=1)
    with pytest.raises(jwt.ExpiredSignatureError):
        token_verify(_sign(_claims(iat=past, nbf=past, exp=past + timedelta(minutes=5))))


def test_not_yet_valid_refused():
    future = datetime.now(UTC) + timedelta(hours=1)
    with pytest.raises(jwt.ImmatureSignatureError):
        token_verify(_sign(_claims(nbf=future)))


def test_missing_expiry_refused():
    claims = _claims()
    del claims["exp"]
    with pytest.raises(jwt.InvalidTokenError):
        token_verify(_sign(claims))


def test_malformed_tokens_are_refused():
    for value in ("", "abc", "a.b.c", "..."):
        with pytest.raises(jwt.InvalidTokenError):
            token_verify(value)
