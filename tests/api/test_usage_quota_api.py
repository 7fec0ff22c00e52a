"""Usage and quota in the REST API: repository usage for those who may see the repository,
namespace usage and quota for its owners, members and administrators, and a quota only
administrators set (an organization owner's attempt included), audited."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from hub.models import AuditEntry, NamespaceQuota
from registry_api.selectors.usage import namespace_usage, repository_usage
from tests import factories
from tests.api.conftest import API
from tests.registry_api.conftest import image_push

pytestmark = pytest.mark.django_db


@pytest.fixture
def quota_admin(db):
    """Staff with the change-quota permission (what the admin site asks too)."""
    user = factories.UserFactory(username="storage-admin", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_namespacequota"))
    return user


@pytest.fixture
def pushed(client, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        image_push(client, "alice/app", "v1", layer=b"a" * 3000)
        image_push(client, "alice/app", "v2", layer=b"b" * 5000)
        image_push(client, "alice/other", "v1", layer=b"b" * 5000)
    return alice.namespace


def test_repository_usage_matches_the_selector(api, pushed):
    answer = api.get(f"{API}/repositories/alice/app/usage/")
    assert answer.status_code == 200
    assert answer.json() == repository_usage(pushed.repositories.get(name="app")).as_dict()
    assert answer.json()["exclusive_bytes"] == 3000  # the b layer and config are shared


def test_private_repository_usage_is_not_found_for_others(as_user, alice, bob, client):
    factories.RepositoryFactory(namespace=alice.namespace, name="secret", is_private=True)
    assert as_user(bob).get(f"{API}/repositories/alice/secret/usage/").status_code == 404
    assert as_user(alice).get(f"{API}/repositories/alice/secret/usage/").status_code == 200


def test_namespace_usage_for_the_owner_and_administrators_only(
    api, as_user, pushed, bob, quota_admin
):
    url = f"{API}/namespaces/alice/usage/"
    expected = namespace_usage(pushed).as_dict()
    assert as_user(pushed.user).get(url).json() == expected
    assert as_user(quota_admin).get(url).json() == expected
    assert as_user(bob).get(url).status_code == 403
    assert api.get(url).status_code == 401
    assert as_user(bob).get(f"{API}/namespaces/nobody/usage/").status_code == 404


def test_organization_members_see_usage(as_user, acme, dave, bob):
    url = f"{API}/namespaces/acme/usage/"
    assert as_user(dave).get(url).status_code == 200
    assert as_user(bob).get(url).status_code == 403


def test_quota_get_and_put_by_an_administrator_is_audited(as_user, pushed, quota_admin, settings):
    settings.DEFAULT_NAMESPACE_QUOTA_BYTES = 10**9
    url = f"{API}/namespaces/alice/quota/"
    before = as_user(pushed.user).get(url).json()
    assert before == {
        "namespace": "alice",
        "limit_bytes": None,
        "effective_limit_bytes": 10**9,
        "used_bytes": namespace_usage(pushed).stored_bytes,
    }
    answer = as_user(quota_admin).put(url, {"limit_bytes": 123456}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["limit_bytes"] == answer.json()["effective_limit_bytes"] == 123456
    assert NamespaceQuota.objects.get(namespace=pushed).limit_bytes == 123456
    entry = AuditEntry.objects.get(action="quota.set")
    assert (entry.actor, entry.target, entry.data) == (
        quota_admin,
        "alice",
        {"limit_bytes": 123456, "previous_limit_bytes": None},
    )
    back = as_user(quota_admin).put(url, {"limit_bytes": None}, format="json")
    assert back.json()["effective_limit_bytes"] == 10**9


def test_owners_cannot_raise_their_own_quota(as_user, pushed, acme, alice):
    # alice owns her namespace and the acme organization: neither makes her an administrator.
    for name in ("alice", "acme"):
        answer = as_user(alice).put(
            f"{API}/namespaces/{name}/quota/", {"limit_bytes": 0}, format="json"
        )
        assert answer.status_code == 403
    assert not NamespaceQuota.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="quota").exists()


def test_a_superuser_sets_quotas_and_bad_limits_are_validation_errors(as_user, pushed):
    root = factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    url = f"{API}/namespaces/alice/quota/"
    for bad in (-1, "lots", 2**64):
        answer = as_user(root).put(url, {"limit_bytes": bad}, format="json")
        assert answer.status_code == 400 and "limit_bytes" in answer.json()
    assert as_user(root).put(url, {"limit_bytes": 0}, format="json").status_code == 200
    assert (
        as_user(root).put(f"{API}/namespaces/nobody/quota/", {}, format="json").status_code == 404
    )


def test_a_read_only_token_of_an_administrator_cannot_set_a_quota(as_token, pushed, quota_admin):
    client = as_token(quota_admin, "repo:read")
    answer = client.put(f"{API}/namespaces/alice/quota/", {"limit_bytes": 1}, format="json")
    assert answer.status_code == 403


def test_administrators_set_quotas_in_the_admin_site_audited(client, pushed):
    root = factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    assert client.get("/admin/hub/namespacequota/add/").status_code == 200
    answer = client.post(
        "/admin/hub/namespacequota/add/", {"namespace": pushed.pk, "limit_bytes": "777"}
    )
    assert answer.status_code == 302, answer.content
    quota = NamespaceQuota.objects.get(namespace=pushed)
    assert quota.limit_bytes == 777
    assert AuditEntry.objects.get(action="quota.set").actor == root
    listing = client.get("/admin/hub/namespacequota/").content.decode()
    assert "777" in listing and "unlimited" not in listing
    page = client.get(f"/admin/hub/repository/{pushed.repositories.get(name='app').pk}/change/")
    assert page.status_code == 200 and b"exclusive bytes" in page.content.lower()
