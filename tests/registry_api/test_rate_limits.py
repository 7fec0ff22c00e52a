"""Pull rate limits (registry_api.rate_limits): Docker Hub's headers, 429 TOOMANYREQUESTS past
the limit, counted on manifest GETs per address (IPv6 by /64) or per account, with exemptions."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from config.env import env_rate
from hub.models import Membership, Organization
from registry_api.models import PullCount
from tests.e2e.server import free_port  # bound, then released: nothing listens there
from tests.registry_api.conftest import bearer, image_push, pull_access

URL = "/v2/alice/app/manifests/latest"


@pytest.fixture
def pushed(client, public_repo):
    return image_push(client, "alice/app", "latest")


@pytest.fixture(params=["database", "redis"])
def backend(request, settings):
    """Each test on both counters: the embedded default's table and Redis."""
    if request.param == "redis":
        settings.REDIS_URL = "redis://127.0.0.1:6379/0"
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        for key in client.scan_iter("pull-rate:*"):
            client.delete(key)
    else:
        settings.REDIS_URL = ""
    from registry_api import rate_limits

    rate_limits._client = None
    cache.clear()
    return request.param


def _get(client, address="192.0.2.10", method="get", **extra):
    return getattr(client, method)(URL, REMOTE_ADDR=address, **extra)


def test_anonymous_pulls_count_down_then_429(client, settings, pushed, backend):
    settings.PULL_RATE_LIMIT_ANONYMOUS = (3, 21600)
    remaining = []
    for _ in range(3):
        response = _get(client)
        assert response.status_code == 200
        assert response["ratelimit-limit"] == "3;w=21600"
        assert response["docker-ratelimit-source"] == "192.0.2.10"
        remaining.append(response["ratelimit-remaining"])
    assert remaining == ["2;w=21600", "1;w=21600", "0;w=21600"]
    refused = _get(client)
    assert refused.status_code == 429
    (error,) = refused.json()["errors"]
    assert error["code"] == "TOOMANYREQUESTS"
    assert "pull rate limit" in error["message"]
    assert refused["ratelimit-remaining"] == "0;w=21600"
    assert 0 < int(refused["Retry-After"]) <= 21600
    # Another address has its own count.
    assert _get(client, address="192.0.2.11").status_code == 200


def test_head_is_not_counted_but_shows_the_count(client, settings, pushed, backend):
    settings.PULL_RATE_LIMIT_ANONYMOUS = (2, 3600)
    for _ in range(5):
        head = _get(client, method="head")
        assert head.status_code == 200
        assert head["ratelimit-remaining"] == "2;w=3600"
    assert _get(client).status_code == 200
    assert _get(client, method="head")["ratelimit-remaining"] == "1;w=3600"


def test_an_ipv6_client_is_counted_by_its_64(client, settings, pushed, backend):
    settings.PULL_RATE_LIMIT_ANONYMOUS = (2, 3600)
    assert _get(client, address="2001:db8:1:2::1").status_code == 200
    response = _get(client, address="2001:db8:1:2:ffff::9")
    assert response["docker-ratelimit-source"] == "2001:db8:1:2::/64"
    assert response["ratelimit-remaining"] == "0;w=3600"
    assert _get(client, address="2001:db8:1:2:aaaa::3").status_code == 429
    assert _get(client, address="2001:db8:1:3::1").status_code == 200


def test_accounts_are_counted_apart_from_addresses(client, settings, pushed, bob, backend):
    settings.PULL_RATE_LIMIT_ANONYMOUS = (1, 3600)
    settings.PULL_RATE_LIMIT_AUTHENTICATED = (2, 3600)
    token = bearer("bob", pull_access("alice/app"))
    assert _get(client).status_code == 200
    assert _get(client).status_code == 429
    first = _get(client, **token)
    assert first.status_code == 200
    assert first["docker-ratelimit-source"] == "bob"
    assert first["ratelimit-limit"] == "2;w=3600"
    assert _get(client, **token).status_code == 200
    assert _get(client, **token).status_code == 429


def test_unlimited_by_default(client, pushed, backend):
    for _ in range(5):
        response = _get(client)
        assert response.status_code == 200
        assert "ratelimit-limit" not in response


def test_members_of_an_exempt_organization_and_superusers_are_not_limited(
    client, settings, pushed, bob, charlie, backend
):
    settings.PULL_RATE_LIMIT_AUTHENTICATED = (1, 3600)
    org = Organization.objects.create(name="vendor", pull_rate_limit_exempt=True)
    Membership.objects.create(organization=org, user=bob)
    charlie.is_superuser = True
    charlie.save()
    for name in ("bob", "charlie"):
        token = bearer(name, pull_access("alice/app"))
        for _ in range(3):
            response = _get(client, **token)
            assert response.status_code == 200
            assert "ratelimit-limit" not in response


def test_the_window_ends(client, settings, pushed, backend):
    settings.PULL_RATE_LIMIT_ANONYMOUS = (1, 2)
    while int(time.time()) % 2:  # start at a window's beginning
        time.sleep(0.05)
    assert _get(client).status_code == 200
    assert _get(client).status_code == 429
    time.sleep(2.05)
    assert _get(client).status_code == 200


def test_pulls_are_served_when_redis_is_down(client, settings, pushed):
    from registry_api import rate_limits

    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    rate_limits._client = None
    settings.PULL_RATE_LIMIT_ANONYMOUS = (1, 3600)
    for _ in range(3):
        response = _get(client)
        assert response.status_code == 200
        assert "ratelimit-limit" not in response
    rate_limits._client = None


def test_the_database_counter_keeps_only_the_current_window(client, settings, pushed):
    settings.REDIS_URL = ""
    settings.PULL_RATE_LIMIT_ANONYMOUS = (5, 3600)
    PullCount.objects.create(key="anonymous:192.0.2.10", window_start=0, count=99)
    assert _get(client).status_code == 200
    assert list(PullCount.objects.values_list("window_start", "count")) == [
        (int(time.time()) // 3600 * 3600, 1)
    ]


def test_a_counted_pull_inside_a_window_deletes_nothing(client, settings, pushed):
    """Old windows are dropped when a key's new window starts, not on every counted GET."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.REDIS_URL = ""
    settings.PULL_RATE_LIMIT_ANONYMOUS = (5, 3600)
    assert _get(client).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert _get(client).status_code == 200
    counter_deletes = [
        q["sql"] for q in queries if "DELETE" in q["sql"] and "pullcount" in q["sql"].lower()
    ]
    assert counter_deletes == []
    assert PullCount.objects.get().count == 2


@pytest.mark.parametrize(
    ("value", "expected"),
    [("100/6h", (100, 21600)), ("5/30m", (5, 1800)), ("10/1d", (10, 86400)), ("3/90", (3, 90))],
)
def test_rates_parse(monkeypatch, value, expected):
    monkeypatch.setenv("PULL_RATE_LIMIT_ANONYMOUS", value)
    assert env_rate("PULL_RATE_LIMIT_ANONYMOUS") == expected


@pytest.mark.parametrize("value", ["100", "x/6h", "0/6h", "10/0h", "10/6w", "-1/6h"])
def test_a_bad_rate_names_its_variable(monkeypatch, value):
    monkeypatch.setenv("PULL_RATE_LIMIT_ANONYMOUS", value)
    with pytest.raises(ImproperlyConfigured, match="PULL_RATE_LIMIT_ANONYMOUS"):
        env_rate("PULL_RATE_LIMIT_ANONYMOUS")


def test_an_owner_cannot_exempt_their_organization(client, acme, alice):
    from tests.conftest import basic_auth

    response = client.patch(
        "/api/v1/orgs/acme/",
        {"pull_rate_limit_exempt": True, "description": "x"},
        content_type="application/json",
        HTTP_AUTHORIZATION=basic_auth("alice"),
    )
    assert response.status_code in (200, 400)
    assert not Organization.objects.get(name="acme").pull_rate_limit_exempt


def test_an_exempt_robot_and_a_robot_of_an_exempt_organization_are_not_limited(
    client, settings, pushed, alice, backend
):
    from hub.models import Namespace
    from hub.services.robots import robot_create

    settings.PULL_RATE_LIMIT_AUTHENTICATED = (1, 3600)
    namespace = Namespace.objects.get(name="alice")
    plain, _ = robot_create(namespace=namespace, name="plain", created_by=alice)
    exempt, _ = robot_create(namespace=namespace, name="exempt", created_by=alice)
    exempt.pull_rate_limit_exempt = True
    exempt.save()
    limited = bearer("alice+plain", pull_access("alice/app"))
    assert _get(client, **limited).status_code == 200
    assert _get(client, **limited).status_code == 429
    free = bearer("alice+exempt", pull_access("alice/app"))
    for _ in range(3):
        assert _get(client, **free).status_code == 200
