"""Signing (checked by an independent implementation), payload shapes and the backoff schedule."""

from __future__ import annotations

import base64
import json

import pytest

from tests.conftest import PASSWORD  # noqa: F401 - shared cast
from tests.factories import CommentFactory, StarFactory
from tests.webhooks.conftest import standard_webhooks_verify
from webhooks import payloads, signing
from webhooks.models import Delivery, Event, Webhook
from webhooks.services.delivery import MAX_BACKOFF_SECONDS, retry_delay
from webhooks.services.events import event_publish


def test_generated_secret_has_the_whsec_form():
    secret = signing.secret_generate()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret[6:])) == 32
    assert signing.secret_generate() != secret


@pytest.mark.parametrize("bad", ["plain", "whsec_not base64!", "whsec_" + "QUJD", ""])
def test_bad_secrets_are_refused(bad):
    with pytest.raises(signing.InvalidSecret):
        signing.secret_key(bad)


def test_signature_verifies_with_an_independent_implementation():
    secret = signing.secret_generate()
    body = b'{"hello":"world"}'
    headers = signing.signed_headers(secret, msg_id="msg_1", timestamp=1700000000, body=body)
    assert headers["webhook-id"] == "msg_1"
    assert headers["webhook-timestamp"] == "1700000000"
    assert headers["webhook-signature"].startswith("v1,")
    assert standard_webhooks_verify(secret, headers, body)
    assert not standard_webhooks_verify(secret, headers, body + b" ")
    assert not standard_webhooks_verify(signing.secret_generate(), headers, body)


def test_signature_matches_the_standard_webhooks_reference_vector():
    # Test vector from the Standard Webhooks specification's reference libraries.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    signature = signing.signature(
        secret, msg_id="msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp=1614265330, body=body
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


@pytest.fixture
def push_delivery(public_repo, alice, bob):
    StarFactory(repository=public_repo, user=bob)
    public_repo.star_count = 1
    public_repo.save()
    CommentFactory(repository=public_repo, author=bob)
    hook = Webhook.objects.create(
        repository=public_repo,
        name="ci",
        url="https://ci.example.com/hook",
        events=["push"],
        secret=signing.secret_generate(),
        site_url="https://hub.example.com/",
    )
    event = event_publish(
        action="push",
        repository=public_repo,
        actor=alice,
        data={
            "tag": "latest",
            "digest": "sha256:" + "a" * 64,
            "media_type": "application/vnd.oci.image.manifest.v1+json",
        },
    )
    return Delivery.objects.get(event=event, webhook=hook)


def test_docker_hub_payload_shape(push_delivery):
    body, content_type = payloads.payload_render(push_delivery)
    payload = json.loads(body)
    assert content_type == "application/json"
    assert set(payload) == {"callback_url", "push_data", "repository"}
    push = payload["push_data"]
    assert push["tag"] == "latest"
    assert push["pusher"] == "alice"
    assert push["digest"] == "sha256:" + "a" * 64
    assert push["media_type"] == "application/vnd.oci.image.manifest.v1+json"
    assert isinstance(push["pushed_at"], int) and push["images"] == []
    repo = payload["repository"]
    assert repo["repo_name"] == "alice/app"
    assert repo["namespace"] == "alice" and repo["name"] == "app" and repo["owner"] == "alice"
    assert repo["is_private"] is False
    assert repo["star_count"] == 1 and repo["comment_count"] == 1
    assert repo["status"] == "Active"
    assert repo["repo_url"] == "https://hub.example.com/r/alice/app/"
    assert isinstance(repo["date_created"], int)
    for key in ("description", "full_description", "dockerfile", "is_official", "is_trusted"):
        assert key in repo


def test_site_url_setting_wins(push_delivery, settings):
    settings.SITE_URL = "https://registry.corp"
    payload = json.loads(payloads.payload_render(push_delivery)[0])
    assert payload["repository"]["repo_url"] == "https://registry.corp/r/alice/app/"


def test_cloudevents_payload_shape(push_delivery):
    push_delivery.webhook.payload_format = Webhook.Format.CLOUDEVENTS
    body, content_type = payloads.payload_render(push_delivery)
    event = json.loads(body)
    assert content_type == "application/cloudevents+json"
    assert event["specversion"] == "1.0"
    assert event["type"] == "io.dockyard.push"
    assert event["id"] == str(push_delivery.event.uuid)
    assert event["source"] == "https://hub.example.com/r/alice/app/"
    assert event["subject"] == "alice/app:latest"
    assert event["time"].endswith("Z")
    assert event["data"]["digest"] == "sha256:" + "a" * 64
    assert event["data"]["repository"]["repo_name"] == "alice/app"


def test_payload_survives_the_repository(public_repo, alice):
    event = event_publish(action="repository_delete", repository=public_repo, actor=alice, data={})
    public_repo.delete()
    hook = Webhook(name="x", url="https://x.example", secret=signing.secret_generate())
    payload = payloads.dockerhub_payload(
        Delivery(webhook=hook, event=Event.objects.get(pk=event.pk))
    )
    assert payload["repository"]["repo_name"] == "alice/app"
    assert payload["action"] == "repository_delete"


def test_backoff_doubles_from_the_configured_first_delay_with_jitter(settings):
    settings.WEBHOOK_RETRY_BACKOFF_SECONDS = 10
    for attempt in range(1, 9):
        base = 10 * 2 ** (attempt - 1)
        delays = [retry_delay(attempt) for _ in range(50)]
        assert all(base <= delay <= base * 1.25 for delay in delays)
        assert len(set(delays)) > 1  # jittered
    assert retry_delay(30) <= MAX_BACKOFF_SECONDS * 1.25


def test_default_settings_retry_at_least_eight_times():
    from django.conf import settings

    assert settings.WEBHOOK_MAX_ATTEMPTS >= 8
