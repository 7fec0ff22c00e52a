"""REST API of retention policies: CRUD, the dry run and the real run, who may do it."""

from __future__ import annotations

import pytest

from registry_api.models import RetentionPolicy, Tag
from tests import factories
from tests.api.conftest import API
from tests.registry_api.conftest import image_push

pytestmark = pytest.mark.django_db

POLICIES = f"{API}/repositories/alice/app/retention-policies/"


@pytest.fixture
def series(client, public_repo):
    """alice/app with v1, v2, v3 pushed in that order."""
    for n, name in enumerate(["v1", "v2", "v3"]):
        image_push(client, "alice/app", name, layer=name.encode())
        Tag.objects.filter(repository=public_repo, name=name).update(
            pushed_at=Tag.objects.get(repository=public_repo, name=name).pushed_at.replace(
                year=2020, month=1, day=n + 1
            )
        )
    return public_repo


def test_create_list_dry_run_then_run(as_user, alice, series):
    owner = as_user(alice)
    created = owner.post(POLICIES, {"keep_last": 1, "tag_pattern": "v*"}, format="json")
    assert created.status_code == 201, created.content
    policy = created.json()
    assert policy["repository"] == "alice/app" and policy["namespace"] is None
    assert policy["schedule"] == "daily" and policy["created_by"] == "alice"
    assert [p["id"] for p in owner.get(POLICIES).json()] == [policy["id"]]

    run = f"{POLICIES}{policy['id']}/run/"
    dry = owner.post(run, {"dry_run": True}, format="json")
    assert dry.status_code == 200, dry.content
    body = dry.json()
    assert body["dry_run"] is True
    assert sorted(tag["name"] for tag in body["tags"]) == ["v1", "v2"]
    assert body["manifests"] == [] and body["freed_bytes"] == 0
    assert Tag.objects.filter(repository=series).count() == 3

    real = owner.post(run, {"dry_run": False}, format="json").json()
    assert real["dry_run"] is False
    assert real["tags"] == body["tags"]
    assert list(Tag.objects.filter(repository=series).values_list("name", flat=True)) == ["v3"]
    assert owner.get(f"{POLICIES}{policy['id']}/").json()["last_result"]["tags"] == 2


def test_update_and_delete(as_user, alice, public_repo):
    owner = as_user(alice)
    policy = owner.post(POLICIES, {"keep_last": 3}, format="json").json()
    detail = f"{POLICIES}{policy['id']}/"
    changed = owner.patch(detail, {"keep_last": 5, "protect_pattern": "release-*"}, format="json")
    assert changed.status_code == 200
    assert (changed.json()["keep_last"], changed.json()["protect_pattern"]) == (5, "release-*")
    assert owner.delete(detail).status_code == 204
    assert owner.get(detail).status_code == 404


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "non_field_errors"),
        ({"keep_last": 0}, "keep_last"),
        ({"keep_last": "many"}, "keep_last"),
        ({"keep_last": 2, "tag_pattern": "a b"}, "tag_pattern"),
        ({"untagged_older_than_days": 99999999}, "untagged_older_than_days"),
        ({"evict_not_pulled_days": 30}, "evict_not_pulled_days"),
        ({"keep_last": 1, "schedule": "hourly"}, "schedule"),
    ],
)
def test_invalid_rules_are_400(as_user, alice, public_repo, body, field):
    answer = as_user(alice).post(POLICIES, body, format="json")
    assert answer.status_code == 400, answer.content
    assert field in answer.json()
    assert not RetentionPolicy.objects.exists()


def test_bad_patch_is_400_and_changes_nothing(as_user, alice, public_repo):
    owner = as_user(alice)
    policy = owner.post(POLICIES, {"keep_last": 3}, format="json").json()
    answer = owner.patch(f"{POLICIES}{policy['id']}/", {"keep_last": None}, format="json")
    assert answer.status_code == 400
    assert RetentionPolicy.objects.get().keep_last == 3


def test_only_admins_manage_policies_and_private_repositories_stay_hidden(
    as_user, api, alice, bob, charlie, public_repo, private_repo
):
    policy = RetentionPolicy.objects.create(repository=public_repo, keep_last=1)
    secret = RetentionPolicy.objects.create(repository=private_repo, keep_last=1)
    for user in (bob, charlie):
        client = as_user(user)
        assert client.get(POLICIES).status_code == 403
        assert client.post(POLICIES, {"keep_last": 1}, format="json").status_code == 403
        assert client.post(f"{POLICIES}{policy.pk}/run/", {}, format="json").status_code == 403
    assert api.get(POLICIES).status_code == 401
    secret_url = f"{API}/repositories/alice/secret/retention-policies/"
    # bob writes to alice/secret but is no admin; charlie may not even see it.
    assert as_user(bob).get(secret_url).status_code == 403
    assert as_user(charlie).get(secret_url).status_code == 404
    assert as_user(charlie).post(f"{secret_url}{secret.pk}/run/", {}).status_code == 404
    assert (
        as_user(charlie).get(secret_url).json()
        == as_user(charlie).get(f"{API}/repositories/alice/absent/retention-policies/").json()
    )
    # A repository admin (collaborator) may; a policy of another repository is not found here.
    factories.CollaboratorFactory(repository=public_repo, user=charlie, role="admin")
    assert as_user(charlie).get(POLICIES).status_code == 200
    assert as_user(alice).get(f"{POLICIES}{secret.pk}/").status_code == 404


def test_a_read_token_cannot_run_a_policy(as_token, alice, public_repo):
    policy = RetentionPolicy.objects.create(repository=public_repo, keep_last=1)
    answer = as_token(alice, "repo:read").post(f"{POLICIES}{policy.pk}/run/", {}, format="json")
    assert answer.status_code == 403


def test_namespace_policies(as_user, alice, dave, acme, series):
    owner = as_user(alice)
    url = f"{API}/namespaces/alice/retention-policies/"
    created = owner.post(url, {"keep_last": 2}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["namespace"] == "alice" and created.json()["repository"] is None
    dry = owner.post(f"{url}{created.json()['id']}/run/", {}, format="json").json()
    assert [(t["repository"], t["name"]) for t in dry["tags"]] == [("alice/app", "v1")]
    # Members of an organization are not its owners; other users are not alice.
    assert as_user(dave).get(f"{API}/namespaces/acme/retention-policies/").status_code == 403
    assert as_user(dave).get(url).status_code == 403
    assert owner.get(f"{API}/namespaces/acme/retention-policies/").status_code == 200
    assert owner.get(f"{API}/namespaces/nobody/retention-policies/").status_code == 404
    # The namespace's policy is not reachable under a repository of it.
    assert owner.get(f"{POLICIES}{created.json()['id']}/").status_code == 404
