"""The signing-keys pages: a user's own (settings) and an organization's (its owners only)."""

from __future__ import annotations

import pytest

from hub.models import Namespace, SigningKey
from hub.services.signing_keys import signing_key_add
from tests import signing

pytestmark = pytest.mark.django_db


def test_a_user_adds_lists_and_removes_a_key(client, alice):
    client.force_login(alice)
    pem = signing.public_pem(signing.ecdsa_key())
    answer = client.post("/settings/signing-keys/", {"name": "ci", "kind": "cosign", "pem": pem})
    assert answer.status_code == 302
    key = SigningKey.objects.get(name="ci", namespace__name="alice")
    signing_key_add(
        namespace=None,
        name="registry",
        kind="cosign",
        pem=signing.public_pem(signing.ed25519_key()),
    )
    page = client.get("/settings/signing-keys/").content.decode()
    assert key.fingerprint in page and "registry-wide" in page
    assert client.post(f"/settings/signing-keys/{key.pk}/delete/").status_code == 302
    assert not SigningKey.objects.filter(pk=key.pk).exists()


def test_a_bad_key_is_a_form_error(client, alice):
    client.force_login(alice)
    answer = client.post(
        "/settings/signing-keys/",
        {"name": "ci", "kind": "cosign", "pem": "-----BEGIN PUBLIC KEY-----"},
    )
    assert answer.status_code == 200
    assert "Not a PEM public key" in answer.content.decode()
    assert not SigningKey.objects.exists()


def test_only_an_organizations_owners_reach_its_keys(client, alice, dave, charlie, acme):
    pem = signing.public_pem(signing.ecdsa_key())
    key = signing_key_add(
        namespace=Namespace.objects.get(name="acme"), name="k", kind="cosign", pem=pem
    )
    for outsider in (dave, charlie):
        client.force_login(outsider)
        assert client.get("/orgs/acme/signing-keys/").status_code == 403
        assert client.post(f"/orgs/acme/signing-keys/{key.pk}/delete/").status_code == 403
    # Another namespace's key is not removable through one's own page.
    client.force_login(charlie)
    assert client.post(f"/settings/signing-keys/{key.pk}/delete/").status_code == 404
    client.force_login(alice)
    assert "k" in client.get("/orgs/acme/signing-keys/").content.decode()
    assert client.post(f"/orgs/acme/signing-keys/{key.pk}/delete/").status_code == 302
    assert not SigningKey.objects.exists()
