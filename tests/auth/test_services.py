from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from hub.credentials import access_token_lookup
from hub.models import Membership, Namespace
from hub.selectors_accounts import access_token_list, membership_list, organization_list
from hub.services.access_tokens import access_token_create, access_token_revoke
from hub.services.organizations import (
    membership_add,
    membership_remove,
    membership_update,
    organization_create,
)


def test_access_token_create_returns_secret_once_and_stores_hash(alice):
    token, secret = access_token_create(user=alice, label="ci", scopes=["repo:read"])
    assert secret.startswith("dky_")
    assert token.token_hash != secret and secret not in token.token_hash
    assert token.token_prefix == secret[:12]
    assert access_token_lookup(secret) == token
    assert list(access_token_list(user=alice)) == [token]


@pytest.mark.parametrize("scopes", [["repo:read", "repo:everything"], [], ["admin"]])
def test_access_token_create_rejects_bad_scopes(alice, scopes):
    with pytest.raises(ValidationError):
        access_token_create(user=alice, label="ci", scopes=scopes)


def test_access_token_create_rejects_past_expiry_and_empty_label(alice):
    with pytest.raises(ValidationError):
        access_token_create(user=alice, label="ci", scopes=["repo:read"], expires_at=timezone.now())
    with pytest.raises(ValidationError):
        access_token_create(user=alice, label="  ", scopes=["repo:read"])


def test_access_token_revoke_and_expiry(alice):
    token, secret = access_token_create(user=alice, label="ci", scopes=["repo:write"])
    access_token_revoke(token=token)
    assert access_token_lookup(secret) is None
    assert list(access_token_list(user=alice)) == []
    soon = timezone.now() + timedelta(seconds=1)
    expiring, secret2 = access_token_create(
        user=alice, label="short", scopes=["repo:read"], expires_at=soon
    )
    expiring.expires_at = timezone.now() - timedelta(seconds=1)
    expiring.save()
    assert access_token_lookup(secret2) is None


def test_organization_create_makes_namespace_and_owner(alice):
    org = organization_create(owner=alice, name="widgets", display_name="Widgets Inc")
    assert Namespace.objects.get(name="widgets").organization == org
    assert Membership.objects.get(organization=org, user=alice).role == "owner"
    assert list(organization_list(user=alice)) == [org]


def test_organization_create_name_conflicts(alice, bob):
    organization_create(owner=alice, name="widgets")
    for name in ("widgets", "bob", "Not_Valid!", ""):
        with pytest.raises(ValidationError):
            organization_create(owner=alice, name=name)


def test_membership_add_update_remove_keep_an_owner(alice, bob):
    org = organization_create(owner=alice, name="widgets")
    owner = Membership.objects.get(organization=org, user=alice)
    with pytest.raises(ValidationError):
        membership_update(membership=owner, role="member")
    with pytest.raises(ValidationError):
        membership_remove(membership=owner)
    member = membership_add(organization=org, username="bob", role="member")
    with pytest.raises(ValidationError):
        membership_add(organization=org, username="bob", role="owner")
    with pytest.raises(ValidationError):
        membership_add(organization=org, username="nobody", role="member")
    with pytest.raises(ValidationError):
        membership_update(membership=member, role="god")
    membership_update(membership=member, role="owner")
    membership_update(membership=owner, role="member")  # bob is still an owner
    assert [m.user.username for m in membership_list(organization=org)] == ["bob", "alice"]
    membership_remove(membership=owner)
    assert [m.user.username for m in membership_list(organization=org)] == ["bob"]


def test_client_ip_trusts_only_the_proxy_added_forwarded_entry(rf, settings):
    from hub.credentials import client_ip

    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 5.6.7.8")
    assert client_ip(request) == "10.0.0.1"
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert client_ip(request) == "5.6.7.8"
    assert client_ip(rf.get("/", REMOTE_ADDR="10.0.0.1")) == "10.0.0.1"
