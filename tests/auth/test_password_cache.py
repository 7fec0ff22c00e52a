"""A verified password is remembered briefly: a `curl -u` loop costs one hash check, not many."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, basic_auth
from tests.factories import UserFactory
from tests.hashers import CountingPasswordHasher


@pytest.fixture
def counted_alice(db, settings):
    settings.PASSWORD_HASHERS = ["tests.hashers.CountingPasswordHasher"]
    user = UserFactory(username="alice")
    CountingPasswordHasher.reset()
    return user


def _v2(client, password):
    return client.get("/v2/", HTTP_AUTHORIZATION=basic_auth("alice", password))


def test_repeated_basic_requests_check_the_password_once(client, counted_alice):
    for _ in range(5):
        assert _v2(client, PASSWORD).status_code == 200
    assert CountingPasswordHasher.calls == 1
    api = client.get("/api/v1/repositories/", HTTP_AUTHORIZATION=basic_auth("alice"))
    assert api.status_code == 200 and CountingPasswordHasher.calls == 1


def test_failures_are_checked_every_time_and_never_remembered(client, counted_alice):
    assert _v2(client, "wrong").status_code == 401
    assert _v2(client, "wrong").status_code == 401
    assert CountingPasswordHasher.calls == 2
    assert _v2(client, PASSWORD).status_code == 200


def test_a_changed_password_is_refused_at_once(client, counted_alice):
    assert _v2(client, PASSWORD).status_code == 200
    counted_alice.set_password("a-new-long-passphrase")
    counted_alice.save()
    assert _v2(client, PASSWORD).status_code == 401
    assert _v2(client, "a-new-long-passphrase").status_code == 200


def test_a_deactivated_user_is_refused_at_once(client, counted_alice):
    assert _v2(client, PASSWORD).status_code == 200
    counted_alice.is_active = False
    counted_alice.save()
    assert _v2(client, PASSWORD).status_code == 401


def test_the_cache_holds_no_password_material(client, counted_alice):
    from django.core.cache import cache

    assert _v2(client, PASSWORD).status_code == 200
    stored = " ".join(str(key) for key in cache._cache)  # LocMemCache in tests
    assert PASSWORD not in stored and "alice" not in stored


def test_remembering_can_be_turned_off(client, counted_alice, settings):
    settings.PASSWORD_CHECK_CACHE_SECONDS = 0
    for _ in range(3):
        assert _v2(client, PASSWORD).status_code == 200
    assert CountingPasswordHasher.calls == 3


def test_a_remembered_password_signs_in_on_the_web_too(client, counted_alice, settings):
    settings.AUTHENTICATION_BACKENDS = [
        "django.contrib.auth.backends.ModelBackend",
        "django.contrib.auth.backends.AllowAllUsersModelBackend",
    ]
    assert _v2(client, PASSWORD).status_code == 200
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302 and "_auth_user_id" in client.session
    assert CountingPasswordHasher.calls == 1
