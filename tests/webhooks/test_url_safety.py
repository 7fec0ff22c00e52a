"""SSRF: non-public targets are refused when a hook is saved and again when a delivery connects."""

from __future__ import annotations

import pytest

from webhooks import signing
from webhooks.models import Delivery, Webhook
from webhooks.services.delivery import delivery_attempt
from webhooks.services.events import event_publish
from webhooks.services.hooks import webhook_create
from webhooks.url_safety import UnsafeURL, address_is_blocked, url_check

REFUSED = [
    "http://127.0.0.1/hook",
    "http://127.1.2.3:8080/",
    "http://localhost/hook",  # a name resolving to 127.0.0.1
    "http://10.0.0.5/",
    "http://172.16.3.4/",
    "http://192.168.1.10/",
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata
    "http://100.100.100.200/",  # carrier-grade NAT / Alibaba metadata
    "http://0.0.0.0/",
    "http://[::1]/",
    "http://[fd00::1]/",  # IPv6 unique local
    "http://[fe80::1]/",  # IPv6 link-local
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped loopback
    "http://224.0.0.1/",
]


@pytest.mark.parametrize("url", REFUSED)
def test_non_public_targets_are_refused(url, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    with pytest.raises(UnsafeURL):
        url_check(url)


@pytest.mark.parametrize("url", ["http://93.184.216.34/hook", "https://[2606:4700::1111]/"])
def test_public_addresses_are_accepted(url, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    url_check(url)


@pytest.mark.parametrize("url", ["ftp://example.com/", "file:///etc/passwd", "http:///nohost"])
def test_other_schemes_are_refused_even_when_private_is_allowed(url, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    with pytest.raises(UnsafeURL):
        url_check(url)


@pytest.mark.parametrize("url", ["http://127.0.0.1/hook", "http://localhost:9/", "http://[::1]/"])
def test_private_targets_allowed_by_setting(url, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    url_check(url)


def test_address_classification():
    assert address_is_blocked("127.0.0.1")
    assert address_is_blocked("::1")
    assert address_is_blocked("fc00::5")
    assert address_is_blocked("not-an-ip")
    assert not address_is_blocked("8.8.8.8")
    assert not address_is_blocked("2001:4860:4860::8888")


def test_creating_a_hook_to_loopback_is_refused(public_repo, alice, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as excinfo:
        webhook_create(repository=public_repo, actor=alice, name="x", url="http://localhost:8000/")
    assert "url" in excinfo.value.message_dict


def test_connect_time_check_refuses_what_the_save_check_let_through(
    public_repo, alice, receiver, settings
):
    """A hook saved while the name pointed elsewhere (DNS rebinding) still cannot reach loopback."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    hook = Webhook.objects.create(
        repository=public_repo,
        name="rebound",
        url=receiver.url.replace("127.0.0.1", "localhost"),
        events=["push"],
        secret=signing.secret_generate(),
    )
    event = event_publish(action="push", repository=public_repo, actor=alice, data={})
    delivery = Delivery.objects.get(event=event, webhook=hook)
    delivery_attempt(delivery_id=delivery.pk)
    attempt = delivery.attempt_log.get()
    assert attempt.status_code is None
    assert "non-public address" in attempt.error
    assert receiver.requests == []
