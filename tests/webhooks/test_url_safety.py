"""SSRF: non-public targets are refused when a hook is saved and again when a delivery connects."""

from __future__ import annotations

import ipaddress
import socket

import pytest
import requests

from webhooks import signing
from webhooks.models import Delivery, Webhook
from webhooks.services.delivery import delivery_attempt
from webhooks.services.events import event_publish
from webhooks.services.hooks import webhook_create
from webhooks.url_safety import GuardedAdapter, UnsafeURL, address_is_blocked, url_check

# IPv6 addresses that stand for a non-public IPv4 address (Python's is_global calls them global).
TRANSITION_TO_PRIVATE = [
    "64:ff9b::7f00:1",  # NAT64 well-known prefix, 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64, 169.254.169.254 (metadata)
    "64:ff9b:1::808:808",  # NAT64 local-use prefix: the operator's own network
    "::127.0.0.1",  # IPv4-compatible
    "::a00:5",  # IPv4-compatible 10.0.0.5
    "::",
    "::ffff:0:7f00:1",  # IPv4-translated (SIIT)
    "::ffff:0:c0a8:10a",  # IPv4-translated 192.168.1.10
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo, client 192.0.2.45
    "2001:0:7f00:1::1",  # Teredo, server 127.0.0.1
]
# The same forms standing for public IPv4 addresses.
TRANSITION_TO_PUBLIC = ["64:ff9b::808:808", "::ffff:93.184.216.34", "2002:808:808::1"]

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
    *(f"http://[{address}]/" for address in TRANSITION_TO_PRIVATE),
]


@pytest.mark.parametrize("url", REFUSED)
def test_non_public_targets_are_refused(url, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    with pytest.raises(UnsafeURL):
        url_check(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.216.34/hook",
        "https://[2606:4700::1111]/",
        *(f"http://[{address}]/" for address in TRANSITION_TO_PUBLIC),
    ],
)
def test_public_addresses_are_accepted(url, settings, public_repo, alice):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    url_check(url)
    hook = webhook_create(repository=public_repo, actor=alice, name="x", url=url)
    assert Webhook.objects.get(pk=hook.pk).url == url


@pytest.mark.parametrize("url", ["ftp://example.com/", "file:///etc/passwd", "http:///nohost"])
def test_other_schemes_are_refused_even_when_private_is_allowed(url, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    with pytest.raises(UnsafeURL):
        url_check(url)


@pytest.mark.parametrize("url", ["http://127.0.0.1/hook", "http://localhost:9/", "http://[::1]/"])
def test_private_targets_allowed_by_setting(url, settings, public_repo, alice):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    url_check(url)
    hook = webhook_create(repository=public_repo, actor=alice, name="x", url=url)
    assert Webhook.objects.get(pk=hook.pk).url == url


def test_loopback_private_and_non_ip_addresses_are_blocked_public_ones_not():
    assert address_is_blocked("127.0.0.1")
    assert address_is_blocked("::1")
    assert address_is_blocked("fc00::5")
    assert address_is_blocked("not-an-ip")
    assert not address_is_blocked("8.8.8.8")
    assert not address_is_blocked("2001:4860:4860::8888")


@pytest.mark.parametrize("address", TRANSITION_TO_PRIVATE)
def test_ipv6_forms_of_non_public_ipv4_addresses_are_blocked(address):
    assert address_is_blocked(address)


@pytest.mark.parametrize("address", TRANSITION_TO_PUBLIC)
def test_ipv6_forms_of_public_ipv4_addresses_are_not_blocked(address):
    assert not address_is_blocked(address)


def test_the_private_target_setting_is_only_a_default_for_url_check(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    with pytest.raises(UnsafeURL):
        url_check("http://127.0.0.1/", allow_private=False)
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    url_check("http://127.0.0.1/", allow_private=True)


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


def _saved_unchecked(repository, url):
    """A hook as if saved while its name pointed at a public address (DNS rebinding since)."""
    return Webhook.objects.create(
        repository=repository,
        name="rebound",
        url=url,
        events=["push"],
        secret=signing.secret_generate(),
    )


@pytest.mark.parametrize("address", [*TRANSITION_TO_PRIVATE, "::ffff:127.0.0.1"])
def test_connect_time_check_refuses_ipv6_forms_of_private_addresses(
    address, public_repo, alice, receiver, settings
):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    port = receiver.url.split(":")[2].split("/")[0]
    hook = _saved_unchecked(public_repo, f"http://[{address}]:{port}/hook")
    event = event_publish(action="push", repository=public_repo, actor=alice, data={})
    delivery = Delivery.objects.get(event=event, webhook=hook)
    delivery_attempt(delivery_id=delivery.pk)
    attempt = delivery.attempt_log.get()
    assert attempt.status_code is None
    message, _, refused = attempt.error.rpartition(" ")
    assert message == "refused to connect to non-public address"
    assert ipaddress.ip_address(refused) == ipaddress.ip_address(address)
    assert receiver.requests == []


def test_attempt_log_is_the_same_for_an_open_and_a_closed_private_port(
    public_repo, alice, receiver, settings
):
    """No port-scan oracle: a private address is refused before connecting, whatever listens."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    open_hook = _saved_unchecked(public_repo, receiver.url.replace("127.0.0.1", "localhost"))
    closed_hook = _saved_unchecked(public_repo, f"http://localhost:{closed_port}/hook")
    event = event_publish(action="push", repository=public_repo, actor=alice, data={})
    errors = {}
    for hook in (open_hook, closed_hook):
        delivery = Delivery.objects.get(event=event, webhook=hook)
        delivery_attempt(delivery_id=delivery.pk)
        attempt = delivery.attempt_log.get()
        assert attempt.status_code is None and attempt.duration_ms < 1000
        errors[hook.pk] = attempt.error
    assert errors[open_hook.pk] == errors[closed_hook.pk]
    assert "non-public address" in errors[open_hook.pk]
    assert receiver.requests == []


def test_guarded_adapter_is_reusable_with_its_own_allowance(receiver):
    """Other outgoing requests (e.g. proxy-cache upstreams) mount the adapter with their rule."""
    refusing = requests.Session()
    refusing.mount("http://", GuardedAdapter())
    with pytest.raises(requests.ConnectionError) as excinfo:
        refusing.post(receiver.url, data=b"x", timeout=5)
    assert "non-public address 127.0.0.1" in str(excinfo.value)
    assert receiver.requests == []
    allowing = requests.Session()
    allowing.mount("http://", GuardedAdapter(allow_private=lambda: True))
    assert allowing.post(receiver.url, data=b"x", timeout=5).status_code == 200
    assert len(receiver.requests) == 1
