"""/api/v1/namespaces/<ns>/signing-keys/: a namespace's owners list, add and remove keys; bad
uploads are field errors (400), never a 500."""

from __future__ import annotations

import pytest

from hub.models import Namespace, SigningKey
from hub.services.signing_keys import signing_key_add
from tests import signing
from tests.api.conftest import API

KEYS = f"{API}/namespaces/alice/signing-keys/"
pytestmark = pytest.mark.django_db


def test_the_owner_adds_lists_and_removes_a_cosign_key(as_user, alice):
    api = as_user(alice)
    version = Namespace.objects.get(name="alice").signing_keys_version
    pem = signing.public_pem(signing.ecdsa_key())
    created = api.post(KEYS, {"name": "ci", "kind": "cosign", "pem": pem}, format="json")
    assert created.status_code == 201, created.content
    key = created.json()
    assert key["scope"] == "namespace" and key["fingerprint"].startswith("sha256:")
    assert key["created_by"] == "alice"
    assert Namespace.objects.get(name="alice").signing_keys_version == version + 1
    signing_key_add(
        namespace=None,
        name="registry",
        kind="cosign",
        pem=signing.public_pem(signing.ed25519_key()),
    )
    listed = api.get(KEYS).json()
    assert [(k["name"], k["scope"]) for k in listed["results"]] == [
        ("ci", "namespace"),
        ("registry", "registry"),
    ]
    assert api.get(f"{KEYS}{key['id']}/").json()["pem"] == pem
    registry_wide = SigningKey.objects.get(name="registry")
    assert api.delete(f"{KEYS}{registry_wide.pk}/").status_code == 404  # admin site only
    assert api.delete(f"{KEYS}{key['id']}/").status_code == 204
    assert not SigningKey.objects.filter(name="ci").exists()
    assert Namespace.objects.get(name="alice").signing_keys_version == version + 3


def test_a_notation_certificate_is_a_key_of_its_own_kind(as_user, alice):
    cert = signing.certificate_pem(signing.certificate(signing.ecdsa_key()))
    api = as_user(alice)
    answer = api.post(KEYS, {"name": "release", "kind": "notation", "pem": cert}, format="json")
    assert answer.status_code == 201, answer.content
    # A certificate is not a cosign public key, nor a public key a certificate.
    wrong = api.post(KEYS, {"name": "x", "kind": "cosign", "pem": cert}, format="json")
    assert wrong.status_code == 400 and "pem" in wrong.json()
    pem = signing.public_pem(signing.ecdsa_key())
    wrong = api.post(KEYS, {"name": "y", "kind": "notation", "pem": pem}, format="json")
    assert wrong.status_code == 400 and "pem" in wrong.json()


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"name": "k", "kind": "cosign", "pem": "not a key"}, "pem"),
        (
            {
                "name": "k",
                "kind": "cosign",
                "pem": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
            },
            "pem",
        ),
        ({"name": "k", "kind": "gpg", "pem": "x"}, "kind"),
        ({"name": "bad name!", "kind": "cosign", "pem": "x"}, "name"),
        ({"kind": "cosign", "pem": "x"}, "name"),
        ({"name": "k", "kind": "cosign", "pem": "\x00" * 10}, "pem"),
    ],
)
def test_bad_uploads_are_field_errors(as_user, alice, payload, field):
    answer = as_user(alice).post(KEYS, payload, format="json")
    assert answer.status_code == 400, answer.content
    assert field in answer.json()


def test_weak_rsa_keys_and_duplicate_names_are_refused(as_user, alice):
    api = as_user(alice)
    weak = signing.public_pem(signing.rsa_key(1024))
    answer = api.post(KEYS, {"name": "weak", "kind": "cosign", "pem": weak}, format="json")
    assert answer.status_code == 400 and "2048" in str(answer.json()["pem"])
    pem = signing.public_pem(signing.rsa_key())
    assert (
        api.post(KEYS, {"name": "ci", "kind": "cosign", "pem": pem}, format="json").status_code
        == 201
    )
    again = api.post(KEYS, {"name": "ci", "kind": "cosign", "pem": pem}, format="json")
    assert again.status_code == 400 and "name" in again.json()


def test_only_owners_manage_keys(api, as_user, alice, bob, acme, dave):
    pem = signing.public_pem(signing.ecdsa_key())
    assert api.get(KEYS).status_code == 401
    assert as_user(bob).get(KEYS).status_code == 403
    assert as_user(bob).post(KEYS, {"name": "k", "kind": "cosign", "pem": pem}).status_code == 403
    org_keys = f"{API}/namespaces/acme/signing-keys/"
    assert as_user(dave).get(org_keys).status_code == 403  # a member, not an owner
    created = as_user(alice).post(
        org_keys, {"name": "k", "kind": "cosign", "pem": pem}, format="json"
    )
    assert created.status_code == 201
    assert as_user(dave).delete(f"{org_keys}{created.json()['id']}/").status_code == 403
    assert as_user(alice).get(f"{API}/namespaces/nobody/signing-keys/").status_code == 404
