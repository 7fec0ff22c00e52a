"""A verified password is remembered briefly: a `curl -u` loop costs one hash check, not many."""

from __future__ import annotations

import functools
import threading

import pytest
from django.db import connections

from hub.credentials import TooManyAttempts, credentials_check
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


@pytest.mark.django_db(transaction=True)
def test_parallel_logins_with_a_remembered_password_are_never_throttled(alice, settings):
    """CI jobs behind one address log in with one account at once: a remembered success is the
    right password, checked moments ago, not a guess, so it must not take a failure slot (they
    used to, and the in-flight ones together went past the limit: 429 with no failure at all)."""
    settings.LOGIN_FAILURE_LIMIT = 2
    settings.PASSWORD_CHECK_CACHE_SECONDS = 60
    check = functools.partial(
        credentials_check, username="alice", secret=PASSWORD, client_ip="10.0.0.9"
    )
    assert check() is not None  # remembered from now on
    refused, rejected = [], []

    def log_in_repeatedly():
        # An assert inside a thread would only print its traceback: record, assert below.
        try:
            for _ in range(40):
                try:
                    if check() is None:
                        rejected.append(1)
                except TooManyAttempts:
                    refused.append(1)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=log_in_repeatedly) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    assert refused == []
    assert rejected == []


def test_a_lockout_holds_even_for_a_remembered_password(alice, settings):
    """Failures up to the limit lock the pair out; a remembered success must not reopen it,
    or a guesser could keep testing guesses against the remembered one during the lockout."""
    settings.LOGIN_FAILURE_LIMIT = 2
    check = functools.partial(credentials_check, username="alice", client_ip="10.0.0.9")
    assert check(secret=PASSWORD) is not None  # remembered
    for _ in range(2):
        assert check(secret="wrong guess") is None
    with pytest.raises(TooManyAttempts):
        check(secret=PASSWORD)
