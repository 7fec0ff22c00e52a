"""REST API: the permission matrix, the secret shown once, deliveries, redeliver and test."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from hub.credentials import token_hash, token_secret_new
from hub.models import AccessToken, AuditEntry
from tests.conftest import basic_auth
from webhooks.models import Delivery, Webhook
from webhooks.services.events import event_publish
from webhooks.services.hooks import MAX_WEBHOOKS_PER_OWNER, webhook_create


def _url(name, repo, **kwargs):
    return reverse(
        f"hub-api:{name}", kwargs={"namespace": repo.namespace.name, "name": repo.name, **kwargs}
    )


def _client(user=None, token=None):
    client = APIClient()
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    elif user:
        client.credentials(HTTP_AUTHORIZATION=basic_auth(user.username))
    return client


@pytest.fixture
def hook(public_repo, alice, allow_loopback, receiver):
    return webhook_create(repository=public_repo, actor=alice, name="ci", url=receiver.url)


@pytest.fixture
def private_hook(private_repo, alice, allow_loopback, receiver):
    return webhook_create(repository=private_repo, actor=alice, name="ci", url=receiver.url)


@pytest.mark.parametrize(
    ("who", "repo", "expected"),
    [
        ("alice", "public", 200),
        ("alice", "private", 200),
        ("bob", "private", 403),  # write collaborator, not admin
        ("charlie", "public", 403),
        ("charlie", "private", 404),  # not visible: like absent
        (None, "public", 401),
        (None, "private", 404),
    ],
)
def test_only_admins_manage_hooks_and_invisible_repositories_answer_404(
    who, repo, expected, request, hook, private_hook
):
    user = request.getfixturevalue(who) if who else None
    repository = hook.repository if repo == "public" else private_hook.repository
    target = hook if repo == "public" else private_hook
    client = _client(user)
    urls = [
        ("get", _url("webhook-list", repository)),
        ("get", _url("webhook-detail", repository, webhook_id=target.pk)),
        ("get", _url("webhook-deliveries", repository, webhook_id=target.pk)),
        ("post", _url("webhook-test", repository, webhook_id=target.pk)),
    ]
    for method, url in urls:
        response = getattr(client, method)(url)
        want = 202 if (expected == 200 and method == "post") else expected
        assert response.status_code == want, (method, url, response.content)


def test_hidden_repository_answers_like_an_absent_one(charlie, private_hook):
    client = _client(charlie)
    hidden = client.get(_url("webhook-list", private_hook.repository))
    absent = client.get("/api/v1/repositories/alice/nothing-here/webhooks/")
    assert hidden.status_code == absent.status_code == 404
    assert hidden.json() == absent.json()


def test_token_without_admin_scope_is_refused(alice, hook):
    secret = token_secret_new()
    AccessToken.objects.create(
        user=alice,
        label="ci",
        token_prefix=secret[:8],
        token_hash=token_hash(secret),
        scopes=["repo:write"],
    )
    assert _client(token=secret).get(_url("webhook-list", hook.repository)).status_code == 403


def test_create_shows_the_secret_once(alice, public_repo, allow_loopback, receiver):
    client = _client(alice)
    response = client.post(
        _url("webhook-list", public_repo),
        {"name": "ci", "url": receiver.url, "events": ["push", "delete"]},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_")
    assert body["events"] == ["push", "delete"]
    assert body["payload_format"] == "dockerhub"
    assert Webhook.objects.get(pk=body["id"]).secret == body["secret"]
    listed = client.get(_url("webhook-list", public_repo)).json()
    assert [hook["id"] for hook in listed] == [body["id"]]
    assert "secret" not in listed[0]
    detail = client.get(_url("webhook-detail", public_repo, webhook_id=body["id"])).json()
    assert "secret" not in detail


def test_create_accepts_a_given_secret_and_refuses_bad_input(alice, public_repo, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    client = _client(alice)
    url = _url("webhook-list", public_repo)
    given = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    ok = client.post(
        url, {"name": "a", "url": "http://93.184.216.34/", "secret": given}, format="json"
    )
    assert ok.status_code == 201 and ok.json()["secret"] == given
    for bad in (
        {"name": "a", "url": "http://127.0.0.1:8000/"},
        {"name": "a", "url": "http://localhost/"},
        {"name": "a", "url": "http://93.184.216.34/", "secret": "hunter2"},
        {"name": "a", "url": "http://93.184.216.34/", "events": ["pull"]},
        {"name": "a", "url": "not a url"},
        {"url": "http://93.184.216.34/"},
    ):
        response = client.post(url, bad, format="json")
        assert response.status_code == 400, (bad, response.content)


def test_patch_and_delete(alice, hook):
    client = _client(alice)
    url = _url("webhook-detail", hook.repository, webhook_id=hook.pk)
    response = client.patch(
        url, {"name": "renamed", "payload_format": "cloudevents"}, format="json"
    )
    assert response.status_code == 200 and response.json()["name"] == "renamed"
    assert "secret" not in response.json()
    rotated = client.patch(url, {"secret": ""}, format="json").json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != hook.secret
    Webhook.objects.filter(pk=hook.pk).update(
        is_active=False, consecutive_failures=20, disabled_reason="too many failures"
    )
    enabled = client.patch(url, {"is_active": True}, format="json").json()
    assert (
        enabled["is_active"]
        and enabled["disabled_reason"] == ""
        and not enabled["consecutive_failures"]
    )
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404


def test_other_repositorys_hook_is_not_found(alice, hook, private_repo):
    url = _url("webhook-detail", private_repo, webhook_id=hook.pk)
    assert _client(alice).get(url).status_code == 404


def test_deliveries_redeliver_and_test(alice, hook, receiver, django_capture_on_commit_callbacks):
    client = _client(alice)
    with django_capture_on_commit_callbacks(execute=True):
        event_publish(action="push", repository=hook.repository, actor=alice, data={"tag": "v1"})
    listing = client.get(_url("webhook-deliveries", hook.repository, webhook_id=hook.pk)).json()
    assert listing["count"] == 1
    [delivery] = listing["results"]
    assert delivery["status"] == "delivered" and delivery["attempts"] == 1
    assert delivery["event"]["action"] == "push" and delivery["event"]["data"]["tag"] == "v1"
    assert delivery["webhook_id"].startswith("msg_")
    [attempt] = delivery["attempt_log"]
    assert attempt["status_code"] == 200 and attempt["response_excerpt"] == "ok"
    assert {"started_at", "duration_ms", "error"} <= set(attempt)

    redeliver = _url(
        "webhook-redeliver", hook.repository, webhook_id=hook.pk, delivery_id=delivery["id"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(redeliver)
    assert response.status_code == 202
    assert response.json()["id"] != delivery["id"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url("webhook-test", hook.repository, webhook_id=hook.pk))
    assert response.status_code == 202 and response.json()["event"]["action"] == "test"
    assert len(receiver.wait_for(3)) == 3
    assert Delivery.objects.filter(webhook=hook, status="delivered").count() == 3
    audited = AuditEntry.objects.filter(action__in=("webhook.redeliver", "webhook.test"))
    assert sorted(audited.values_list("action", "actor__username")) == [
        ("webhook.redeliver", "alice"),
        ("webhook.test", "alice"),
    ]
    missing = _url("webhook-redeliver", hook.repository, webhook_id=hook.pk, delivery_id=999999)
    assert client.post(missing).status_code == 404


def test_repository_names_with_slashes(alice, allow_loopback, receiver):
    from tests.factories import RepositoryFactory

    repo = RepositoryFactory(namespace=alice.namespace, name="team/tool")
    client = _client(alice)
    url = "/api/v1/repositories/alice/team/tool/webhooks/"
    assert _url("webhook-list", repo) == url
    response = client.post(url, {"name": "n", "url": receiver.url}, format="json")
    assert response.status_code == 201
    assert Webhook.objects.get().repository == repo


def test_openapi_schema_describes_the_endpoints():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]
    base = "/api/v1/repositories/{namespace}/{name}/webhooks/"
    assert set(paths[base]) >= {"get", "post"}
    assert set(paths[base + "{webhook_id}/"]) >= {"get", "patch", "delete"}
    assert "get" in paths[base + "{webhook_id}/deliveries/"]
    assert "post" in paths[base + "{webhook_id}/deliveries/{delivery_id}/redeliver/"]
    assert "post" in paths[base + "{webhook_id}/test/"]
    created = paths[base]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    assert created["$ref"].endswith("/WebhookWithSecret")


def _org_url(name, org="acme", **kwargs):
    return reverse(f"hub-api:{name}", kwargs={"name": org, **kwargs})


@pytest.mark.parametrize(
    ("who", "expected"), [("alice", 201), ("dave", 403), ("charlie", 403), (None, 401)]
)
def test_organization_hooks_are_for_owners(who, expected, request, acme, allow_loopback, receiver):
    user = request.getfixturevalue(who) if who else None
    response = _client(user).post(
        _org_url("org-webhook-list"), {"name": "org", "url": receiver.url}, format="json"
    )
    assert response.status_code == expected, response.content
    assert _client(user).get(_org_url("org-webhook-list", org="nope")).status_code == 404


def test_organization_hook_fires_for_its_repositories(
    alice, acme, allow_loopback, receiver, django_capture_on_commit_callbacks
):
    from tests.factories import RepositoryFactory

    client = _client(alice)
    created = client.post(
        _org_url("org-webhook-list"),
        {"name": "org", "url": receiver.url, "events": ["push"]},
        format="json",
    ).json()
    repo = RepositoryFactory(namespace=acme.namespace, name="tool", is_private=True)
    with django_capture_on_commit_callbacks(execute=True):
        event_publish(action="push", repository=repo, actor=alice, data={"tag": "1"})
    [request] = receiver.wait_for(1)
    assert request.headers["webhook-id"].startswith("msg_")
    deliveries = client.get(_org_url("org-webhook-deliveries", webhook_id=created["id"])).json()
    assert deliveries["count"] == 1 and deliveries["results"][0]["status"] == "delivered"
    with django_capture_on_commit_callbacks(execute=True):
        test = client.post(_org_url("org-webhook-test", webhook_id=created["id"]))
    assert test.status_code == 202
    assert len(receiver.wait_for(2)) == 2
    # The repository API does not reach the organization's hook.
    url = _url("webhook-detail", repo, webhook_id=created["id"])
    assert client.get(url).status_code == 404


def test_huge_ids_are_not_found(alice, hook):
    huge = 10**30
    assert (
        _client(alice).get(_url("webhook-detail", hook.repository, webhook_id=huge)).status_code
        == 404
    )
    url = _url("webhook-redeliver", hook.repository, webhook_id=hook.pk, delivery_id=huge)
    assert _client(alice).post(url).status_code == 404


def test_hooks_per_repository_are_capped(alice, public_repo, allow_loopback, receiver):
    for number in range(MAX_WEBHOOKS_PER_OWNER):
        Webhook.objects.create(repository=public_repo, name=f"h{number}", url=receiver.url)
    response = _client(alice).post(
        _url("webhook-list", public_repo), {"name": "one more", "url": receiver.url}, format="json"
    )
    assert response.status_code == 400 and "At most" in response.content.decode()
