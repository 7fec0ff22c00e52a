"""The repository's webhooks pages: admins only; create (secret shown once), edit, test."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import PASSWORD
from webhooks.models import Delivery, Webhook
from webhooks.services.hooks import MAX_WEBHOOKS_PER_OWNER, webhook_create


def _list(repo):
    return reverse("webhooks:list", kwargs={"namespace": repo.namespace.name, "name": repo.name})


def _hook_url(hook, view="detail", **extra):
    repo = hook.repository
    kwargs = {"namespace": repo.namespace.name, "name": repo.name, "webhook_id": hook.pk, **extra}
    return reverse(f"webhooks:{view}", kwargs=kwargs)


@pytest.fixture
def hook(public_repo, alice, allow_loopback, receiver):
    return webhook_create(repository=public_repo, actor=alice, name="ci", url=receiver.url)


def _login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_webhook_pages_live_under_the_repository_path(public_repo):
    assert _list(public_repo) == "/r/alice/app/-/webhooks/"


@pytest.mark.parametrize(
    ("who", "repo", "expected"),
    [
        ("alice", "public_repo", 200),
        ("alice", "private_repo", 200),
        ("bob", "private_repo", 403),
        ("charlie", "public_repo", 403),
        ("charlie", "private_repo", 404),
    ],
)
def test_only_admins_see_the_page(client, request, who, repo, expected):
    repository = request.getfixturevalue(repo)
    _login(client, request.getfixturevalue(who))
    assert client.get(_list(repository)).status_code == expected


def test_anonymous_is_sent_to_sign_in(client, public_repo):
    response = client.get(_list(public_repo))
    assert response.status_code == 302 and "login" in response["Location"]


def test_create_then_secret_shown_once(client, alice, public_repo, allow_loopback, receiver):
    _login(client, alice)
    response = client.post(
        _list(public_repo),
        {
            "name": "ci",
            "url": receiver.url,
            "events": ["push"],
            "payload_format": "dockerhub",
            "is_active": "on",
        },
    )
    hook = Webhook.objects.get()
    assert response.status_code == 302 and response["Location"] == _hook_url(hook)
    page = client.get(response["Location"]).content.decode()
    assert hook.secret in page
    assert hook.secret not in client.get(_hook_url(hook)).content.decode()
    assert "ci" in client.get(_list(public_repo)).content.decode()


def test_create_refuses_loopback_with_a_form_error(client, alice, public_repo, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    _login(client, alice)
    response = client.post(
        _list(public_repo),
        {
            "name": "ci",
            "url": "http://127.0.0.1:9/",
            "events": ["push"],
            "payload_format": "dockerhub",
        },
    )
    assert response.status_code == 400
    assert "private" in response.content.decode()
    assert "WEBHOOK_ALLOW_PRIVATE_TARGETS=true" in response.content.decode()  # the way out
    assert not Webhook.objects.exists()


def test_keep_the_secret_help_only_when_editing(client, alice, hook):
    _login(client, alice)
    assert "keep the current secret" not in client.get(_list(hook.repository)).content.decode()
    assert "keep the current secret" in client.get(_hook_url(hook)).content.decode()


def test_edit_disable_and_reason_shown(client, alice, hook):
    _login(client, alice)
    Webhook.objects.filter(pk=hook.pk).update(
        is_active=False, disabled_reason="Disabled after 20 deliveries in a row failed"
    )
    page = client.get(_hook_url(hook)).content.decode()
    assert "Disabled after 20 deliveries in a row failed" in page
    response = client.post(
        _hook_url(hook),
        {
            "name": "renamed",
            "url": hook.url,
            "events": ["push", "delete"],
            "payload_format": "cloudevents",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    hook.refresh_from_db()
    assert hook.name == "renamed" and hook.is_active and hook.disabled_reason == ""
    assert hook.events == ["push", "delete"] and hook.payload_format == "cloudevents"


def test_test_button_and_redeliver_and_delete(
    client, alice, hook, receiver, django_capture_on_commit_callbacks
):
    _login(client, alice)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(_hook_url(hook, "test")).status_code == 302
    delivery = Delivery.objects.get(webhook=hook)
    assert delivery.status == "delivered"
    page = client.get(_hook_url(hook)).content.decode()
    assert f"delivery-{delivery.pk}" in page and "HTTP 200" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_hook_url(hook, "redeliver", delivery_id=delivery.pk))
    assert response.status_code == 302
    assert len(receiver.wait_for(2)) == 2
    assert client.get(_hook_url(hook, "test")).status_code == 405
    assert client.post(_hook_url(hook, "delete")).status_code == 302
    assert not Webhook.objects.exists()


def test_non_admin_cannot_post(client, bob, private_repo, alice, allow_loopback, receiver):
    hook = webhook_create(repository=private_repo, actor=alice, name="x", url=receiver.url)
    _login(client, bob)
    assert client.post(_hook_url(hook, "delete")).status_code == 403
    assert client.post(_hook_url(hook, "test")).status_code == 403
    assert Webhook.objects.exists()


def test_organization_webhooks_page(client, alice, dave, acme, allow_loopback, receiver):
    url = reverse("webhooks:org-list", kwargs={"org": "acme"})
    assert url == "/u/acme/-/webhooks/"
    _login(client, dave)  # a member, not an owner
    assert client.get(url).status_code == 403
    client.logout()
    _login(client, alice)
    assert client.get(reverse("webhooks:org-list", kwargs={"org": "alice"})).status_code == 404
    response = client.post(
        url,
        {
            "name": "org",
            "url": receiver.url,
            "events": ["push"],
            "payload_format": "dockerhub",
            "is_active": "on",
        },
    )
    hook = Webhook.objects.get()
    assert hook.organization == acme and hook.repository is None
    detail = reverse("webhooks:org-detail", kwargs={"org": "acme", "webhook_id": hook.pk})
    assert response["Location"] == detail
    page = client.get(detail).content.decode()
    assert hook.secret in page and "/u/acme/-/webhooks/" in page
    assert "every repository of acme" in client.get(url).content.decode()


def test_the_cap_shows_as_a_form_error(client, alice, public_repo, allow_loopback, receiver):
    for number in range(MAX_WEBHOOKS_PER_OWNER):
        Webhook.objects.create(repository=public_repo, name=f"h{number}", url=receiver.url)
    _login(client, alice)
    response = client.post(
        _list(public_repo),
        {"name": "more", "url": receiver.url, "events": ["push"], "payload_format": "dockerhub"},
    )
    assert response.status_code == 400 and "At most" in response.content.decode()
