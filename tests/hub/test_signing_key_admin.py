"""Administrators add registry-wide signing keys in the admin site; bad keys are form errors
and every change invalidates the cached verdicts of the namespaces it covers."""

from __future__ import annotations

import pytest
from django.urls import reverse

from hub.models import Namespace, SigningKey
from tests import factories, signing

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(db):
    user = factories.UserFactory(username="operator")
    user.is_staff = user.is_superuser = True
    user.save()
    return user


def test_a_registry_wide_key_added_in_the_admin_bumps_every_namespace(client, operator, alice):
    client.force_login(operator)
    before = dict(Namespace.objects.values_list("name", "signing_keys_version"))
    url = reverse("admin:hub_signingkey_add")
    pem = signing.public_pem(signing.ecdsa_key())
    answer = client.post(url, {"namespace": "", "name": "registry", "kind": "cosign", "pem": pem})
    assert answer.status_code == 302, answer.content
    key = SigningKey.objects.get(name="registry")
    assert key.namespace is None and key.fingerprint.startswith("sha256:")
    after = dict(Namespace.objects.values_list("name", "signing_keys_version"))
    assert all(after[name] == version + 1 for name, version in before.items())
    delete = reverse("admin:hub_signingkey_delete", args=[key.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert not SigningKey.objects.exists()
    assert Namespace.objects.get(name="alice").signing_keys_version == before["alice"] + 2


def test_a_bad_key_is_an_admin_form_error(client, operator):
    client.force_login(operator)
    answer = client.post(
        reverse("admin:hub_signingkey_add"),
        {"namespace": "", "name": "bad", "kind": "cosign", "pem": "no key here"},
    )
    assert answer.status_code == 200
    assert "Not a PEM public key" in answer.content.decode()
    assert not SigningKey.objects.exists()
