"""Immutable tags: a protected tag is created once and never moved nor deleted, over /v2/, the
REST API and the UI; rules per repository and per namespace, lifted by administrators only."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from hub.models import AuditEntry
from hub.services.access_tokens import access_token_create
from registry_api.digests import digest_bytes
from registry_api.models import ImmutabilityRule, Manifest, Tag
from registry_api.services.immutability import (
    pattern_matches,
    pattern_validate,
    rule_create,
    tag_is_immutable,
)
from tests import factories
from tests.conftest import basic_auth
from tests.registry_api.conftest import bearer
from tests.registry_api.test_manifests import manifest_put
from tests.registry_api.test_safe_deletes import platform_push

pytestmark = pytest.mark.django_db

API = "/api/v1"
RULES = f"{API}/repositories/alice/app/immutability-rules/"


def as_user(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic_auth(user.username))
    return client


def access(name="alice/app"):
    return [{"type": "repository", "name": name, "actions": ["pull", "push", "delete"]}]


@pytest.fixture
def headers(public_repo):
    return bearer("alice", access())


@pytest.fixture
def images(client, headers):
    """Two different images pushed by digest (amd64, arm64), `v1.0` and `latest` at the first."""
    first, second = platform_push(client, headers, "amd64"), platform_push(client, headers, "arm64")
    for tag in ("v1.0", "latest"):
        assert manifest_put(client, "alice/app", tag, first, headers).status_code == 201
    return first, second


def rule_add(alice, pattern="v*", url=RULES):
    response = as_user(alice).post(url, {"pattern": pattern}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def tag_digest(name: str) -> str:
    return Tag.objects.get(name=name).manifest.digest


def test_moving_a_protected_tag_is_denied_naming_the_rule(client, headers, images, alice):
    first, second = images
    rule_add(alice)
    response = manifest_put(client, "alice/app", "v1.0", second, headers)
    assert response.status_code == 403
    error = response.json()["errors"][0]
    assert error["code"] == "DENIED"
    assert error["message"] == (
        'tag v1.0 is immutable (rule "v*" on alice/app): push a new tag instead'
    )
    assert error["detail"]["rule"] == "v*" and error["detail"]["tag"] == "v1.0"
    assert tag_digest("v1.0") == digest_bytes(first)


def test_same_digest_again_new_matching_tags_and_other_tags_are_allowed(
    client, headers, images, alice
):
    first, second = images
    rule_add(alice)
    assert manifest_put(client, "alice/app", "v1.0", first, headers).status_code == 201
    assert manifest_put(client, "alice/app", "v2.0", second, headers).status_code == 201
    assert manifest_put(client, "alice/app", "latest", second, headers).status_code == 201
    assert tag_digest("latest") == digest_bytes(second)
    assert tag_digest("v1.0") == digest_bytes(first)


def test_a_push_refused_leaves_no_manifest_behind(client, headers, alice, public_repo):
    """The refused manifest was not stored: the push's transaction rolled back whole."""
    from tests.registry_api.test_manifests import image_body

    first = image_body(client, "alice/app", headers, layers=(b"one",))
    assert manifest_put(client, "alice/app", "v1", first, headers).status_code == 201
    rule_add(alice)
    other = image_body(client, "alice/app", headers, layers=(b"two",))
    assert manifest_put(client, "alice/app", "v1", other, headers).status_code == 403
    assert not Manifest.objects.filter(digest=digest_bytes(other)).exists()


def test_deletes_of_a_protected_tag_are_refused_everywhere(client, headers, images, alice):
    first, _ = images
    rule_add(alice, "v1.*")
    by_tag = client.delete("/v2/alice/app/manifests/v1.0", **headers)
    assert by_tag.status_code == 403
    assert by_tag.json()["errors"][0]["code"] == "DENIED"
    assert "cannot be deleted" in by_tag.json()["errors"][0]["message"]
    by_digest = client.delete(f"/v2/alice/app/manifests/{digest_bytes(first)}", **headers)
    assert by_digest.status_code == 403
    assert 'rule "v1.*" on alice/app' in by_digest.json()["errors"][0]["message"]
    rest = as_user(alice).delete(f"{API}/repositories/alice/app/tags/v1.0/")
    assert rest.status_code == 403
    assert "immutable" in rest.json()["detail"]
    client.force_login(alice)
    page = client.post("/r/alice/app/-/settings/tags/v1.0/delete/", follow=True)
    assert page.status_code == 200
    assert "is immutable" in page.content.decode()
    assert Tag.objects.filter(name="v1.0").exists()
    assert Manifest.objects.filter(digest=digest_bytes(first)).exists()
    # `latest` is not protected: deleting it works.
    assert client.delete("/v2/alice/app/manifests/latest", **headers).status_code == 202


def test_namespace_rules_cover_every_repository_of_the_namespace(client, alice, public_repo):
    factories.RepositoryFactory(namespace=alice.namespace, name="other")
    headers = bearer("alice", access("alice/other"))
    from tests.registry_api.conftest import image_push

    image_push(client, "alice/other", "release-1", layer=b"a")
    rule = rule_add(alice, "release-*", url=f"{API}/namespaces/alice/immutability-rules/")
    assert rule["scope"] == "namespace" and rule["namespace"] == "alice"
    assert rule["repository"] is None
    refused = client.delete("/v2/alice/other/manifests/release-1", **headers)
    assert refused.status_code == 403
    assert 'rule "release-*" on alice/*' in refused.json()["errors"][0]["message"]
    # Listed on every repository of the namespace, with its scope.
    listed = as_user(alice).get(RULES).json()["results"]
    assert [(entry["pattern"], entry["scope"]) for entry in listed] == [("release-*", "namespace")]
    # Lifted by the owner on the namespace, the delete goes through.
    lifted = as_user(alice).delete(f"{API}/namespaces/alice/immutability-rules/{rule['id']}/")
    assert lifted.status_code == 204
    assert client.delete("/v2/alice/other/manifests/release-1", **headers).status_code == 202


def test_a_repository_admin_cannot_lift_a_namespace_rule(acme, alice, bob):
    repository = factories.RepositoryFactory(namespace=acme.namespace, name="tool")
    factories.CollaboratorFactory(repository=repository, user=bob, role="admin")
    rule = rule_create(namespace=acme.namespace, pattern="*", actor=alice)
    url = f"{API}/repositories/acme/tool/immutability-rules/{rule.pk}/"
    assert as_user(bob).get(url).status_code == 200
    assert as_user(bob).delete(url).status_code == 403
    assert as_user(bob).get(f"{API}/namespaces/acme/immutability-rules/").status_code == 403
    assert ImmutabilityRule.objects.filter(pk=rule.pk).exists()
    # bob administers the repository: he adds (and lifts) its own rules.
    own = rule_add(bob, "v*", url=f"{API}/repositories/acme/tool/immutability-rules/")
    url = f"{API}/repositories/acme/tool/immutability-rules/{own['id']}/"
    assert as_user(bob).delete(url).status_code == 204


def test_lifting_a_rule_lets_the_tag_move_and_is_audited(client, headers, images, alice):
    first, second = images
    rule = rule_add(alice)
    assert manifest_put(client, "alice/app", "v1.0", second, headers).status_code == 403
    assert as_user(alice).delete(f"{RULES}{rule['id']}/").status_code == 204
    assert manifest_put(client, "alice/app", "v1.0", second, headers).status_code == 201
    entries = AuditEntry.objects.filter(target="alice/app").order_by("created_at", "pk")
    assert [(entry.action, entry.actor_name, entry.data["pattern"]) for entry in entries] == [
        ("immutability.create", "alice", "v*"),
        ("immutability.delete", "alice", "v*"),
    ]


def test_non_admins_cannot_manage_rules_and_private_repositories_stay_hidden(
    public_repo, private_repo, alice, bob, charlie
):
    rule = rule_create(repository=public_repo, pattern="v*", actor=alice)
    secret_rule = rule_create(repository=private_repo, pattern="v*", actor=alice)
    # charlie sees the public repository (and its rules) but may not change them.
    assert as_user(charlie).get(RULES).status_code == 200
    assert as_user(charlie).post(RULES, {"pattern": "x*"}, format="json").status_code == 403
    assert as_user(charlie).delete(f"{RULES}{rule.pk}/").status_code == 403
    # The private repository is exactly like an absent one to charlie.
    secret = f"{API}/repositories/alice/secret/immutability-rules/"
    absent = f"{API}/repositories/alice/nothing/immutability-rules/"
    for method, url, other in (
        ("get", secret, absent),
        ("delete", f"{secret}{secret_rule.pk}/", f"{absent}{secret_rule.pk}/"),
    ):
        answer = getattr(as_user(charlie), method)(url)
        assert answer.status_code == 404
        assert answer.json() == getattr(as_user(charlie), method)(other).json()
    assert as_user(charlie).post(secret, {"pattern": "x*"}, format="json").status_code == 404
    # bob writes to the private repository: he sees its rules, administers nothing.
    assert as_user(bob).get(secret).status_code == 200
    assert as_user(bob).post(secret, {"pattern": "x*"}, format="json").status_code == 403
    # Anonymous callers: 401; another user on alice's namespace: 403.
    assert APIClient().post(RULES, {"pattern": "x*"}, format="json").status_code == 401
    namespace_url = f"{API}/namespaces/alice/immutability-rules/"
    assert as_user(charlie).post(namespace_url, {"pattern": "*"}, format="json").status_code == 403
    # An access token without an admin scope does not administer either.
    _, secret_token = access_token_create(user=alice, label="ci", scopes=["repo:write"])
    token_client = APIClient()
    token_client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret_token}")
    assert token_client.post(RULES, {"pattern": "x*"}, format="json").status_code == 403
    assert token_client.post(namespace_url, {"pattern": "*"}, format="json").status_code == 403
    assert ImmutabilityRule.objects.count() == 2


@pytest.mark.parametrize(
    "pattern",
    [
        "",
        "   ",
        "has space",
        "v" * 201,
        "re:",
        "re:(",
        "re:(a+)+$",
        "re:(a|aa)*$",
        r"re:(\w)\1",
        "re:a*b*c*d*",
        "tag/with/slash",
    ],
)
def test_bad_patterns_are_field_errors(public_repo, alice, pattern):
    response = as_user(alice).post(RULES, {"pattern": pattern}, format="json")
    assert response.status_code == 400, response.content
    assert "pattern" in response.json()
    assert not ImmutabilityRule.objects.exists()


def test_the_same_pattern_twice_is_a_field_error(public_repo, alice):
    rule_add(alice, "v*")
    response = as_user(alice).post(RULES, {"pattern": "v*"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"pattern": ["This rule already exists."]}


@pytest.mark.parametrize(
    ("pattern", "tag", "matches"),
    [
        ("v*", "v1.0", True),
        ("v*", "1.0-v", False),
        ("v*", "V1", False),  # tags are case-sensitive
        ("release-*", "release-2024", True),
        ("release-*", "prerelease-1", False),
        ("*", "latest", True),
        ("v?.?", "v1.2", True),
        ("v[0-9]*", "vx", False),
        (r"re:^v\d+$", "v12", True),
        (r"re:^v\d+$", "v1.2", False),
        ("re:stable", "my-stable-tag", True),  # searched: anchor to match the whole name
    ],
)
def test_pattern_matching(pattern, tag, matches):
    assert pattern_validate(pattern) == pattern
    assert pattern_matches(pattern, tag) is matches


def test_tag_is_immutable_answers_the_rule_for_retention(public_repo, alice):
    assert tag_is_immutable(public_repo, "v1") is None
    rule = rule_create(repository=public_repo, pattern="v*", actor=alice)
    assert tag_is_immutable(public_repo, "v1") == rule
    assert tag_is_immutable(public_repo, "latest") is None


def test_settings_page_adds_lists_and_lifts_rules(client, headers, images, alice):
    client.force_login(alice)
    url = "/r/alice/app/-/settings/"
    added = client.post(f"{url}immutability/", {"pattern": "v*"}, follow=True)
    assert added.status_code == 200
    rule = ImmutabilityRule.objects.get(repository__name="app")
    page = client.get(url).content.decode()
    assert "<code>v*</code>" in page and "1 tag is protected now." in page
    bad = client.post(f"{url}immutability/", {"pattern": "re:("})
    assert bad.status_code == 200 and "Not a valid regular expression" in bad.content.decode()
    lifted = client.post(f"{url}immutability/{rule.pk}/delete/", follow=True)
    assert lifted.status_code == 200
    assert not ImmutabilityRule.objects.exists()


def test_settings_page_rules_are_for_admins_only(client, public_repo, alice, charlie):
    rule = rule_create(repository=public_repo, pattern="v*", actor=alice)
    client.force_login(charlie)
    assert client.post("/r/alice/app/-/settings/immutability/", {"pattern": "x"}).status_code == 404
    url = f"/r/alice/app/-/settings/immutability/{rule.pk}/delete/"
    assert client.post(url).status_code == 404
    assert ImmutabilityRule.objects.count() == 1


def test_admin_site_adds_and_lifts_rules_through_the_service(client, public_repo, alice):
    root = factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    add = "/admin/registry_api/immutabilityrule/add/"
    both = client.post(add, {"repository": public_repo.pk, "namespace": alice.namespace.pk,
                             "pattern": "v*"})  # fmt: skip
    assert both.status_code == 200 and not ImmutabilityRule.objects.exists()
    bad = client.post(add, {"repository": public_repo.pk, "pattern": "re:(a+)+"})
    assert bad.status_code == 200 and not ImmutabilityRule.objects.exists()
    good = client.post(add, {"repository": public_repo.pk, "pattern": "v*"})
    assert good.status_code == 302, good.content.decode()[:2000]
    rule = ImmutabilityRule.objects.get()
    assert rule.created_by == root
    delete = f"/admin/registry_api/immutabilityrule/{rule.pk}/delete/"
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert not ImmutabilityRule.objects.exists()
    rules = AuditEntry.objects.filter(action__startswith="immutability.").order_by("pk")
    actions = list(rules.values_list("action", "actor_name"))
    assert actions == [("immutability.create", "root"), ("immutability.delete", "root")]
