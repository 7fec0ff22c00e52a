"""Failed-password lockout: fixed windows, atomic counts, (account, address) keys, tokens exempt."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connections
from django.test import Client

from hub.services.access_tokens import access_token_create
from tests.conftest import PASSWORD, basic_auth
from tests.factories import UserFactory
from tests.hashers import CountingPasswordHasher


def _v2(client, password, address="10.0.0.1", username="alice"):
    return client.get(
        "/v2/", HTTP_AUTHORIZATION=basic_auth(username, password), REMOTE_ADDR=address
    )


def _lock(client, address="10.0.0.1", times=5):
    for _ in range(times):
        assert _v2(client, "wrong", address).status_code == 401
    assert _v2(client, PASSWORD, address).status_code == 429


def test_lockout_lasts_one_window_however_many_failures_follow(client, alice, settings):
    settings.LOGIN_FAILURE_WINDOW = 2
    time.sleep(2 - time.time() % 2 + 0.05)  # start at the beginning of a window
    started = time.monotonic()
    _lock(client)
    # Failures during the lockout must not extend it (the old counter re-set its expiry).
    while _v2(client, PASSWORD).status_code == 429:
        assert _v2(client, "wrong").status_code in (401, 429)
        assert time.monotonic() - started < 3, "still locked after the window ended"
        time.sleep(0.1)
    assert time.monotonic() - started >= 1.5


def test_a_valid_access_token_works_while_the_password_is_locked_out(client, alice):
    _, secret = access_token_create(user=alice, label="ci", scopes=["repo:write"])
    _lock(client)
    assert _v2(client, secret).status_code == 200
    token = client.get(
        "/auth/token",
        {"service": "dockyard", "scope": "repository:alice/app:pull"},
        HTTP_AUTHORIZATION=basic_auth("alice", secret),
        REMOTE_ADDR="10.0.0.1",
    )
    assert token.status_code == 200
    api = client.get(
        "/api/v1/repositories/",
        HTTP_AUTHORIZATION=basic_auth("alice", secret),
        REMOTE_ADDR="10.0.0.1",
    )
    assert api.status_code == 200
    # The password itself stays locked out on every surface.
    assert _v2(client, PASSWORD).status_code == 429


def test_a_second_address_is_not_locked_out_until_the_account_ceiling(client, alice, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_ACCOUNT = 12
    _lock(client, "10.0.0.1")
    assert _v2(client, PASSWORD, "10.0.0.2").status_code == 200
    # Someone else behind the first address (one NAT, one CI runner) is not locked out either.
    UserFactory(username="bob")
    assert _v2(client, PASSWORD, "10.0.0.1", username="bob").status_code == 200
    # Guesses spread over addresses reach the account-wide ceiling: then every address waits.
    for address in ("10.0.0.3", "10.0.0.4"):
        for _ in range(5):
            assert _v2(client, "wrong", address).status_code in (401, 429)
    assert _v2(client, PASSWORD, "10.0.0.9").status_code == 429


def test_a_success_does_not_count_as_a_failure(client, alice):
    for _ in range(4):
        assert _v2(client, "wrong").status_code == 401
    assert _v2(client, PASSWORD).status_code == 200
    assert _v2(client, "wrong").status_code == 401  # the fifth failure: still checked
    assert _v2(client, PASSWORD).status_code == 429


@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_passwords_are_checked_at_most_the_limit(settings):
    settings.PASSWORD_HASHERS = ["tests.hashers.CountingPasswordHasher"]
    UserFactory(username="alice")
    # Each check lasts like an Argon2 check: parallel requests overlap as they do in production.
    CountingPasswordHasher.reset(delay=0.05)
    statuses: list[int] = []
    start = threading.Barrier(40)

    def guess():
        client = Client()
        start.wait()
        try:
            statuses.append(_v2(client, "wrong").status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=guess) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(set(statuses)) == [401, 429]
    assert statuses.count(401) == settings.LOGIN_FAILURE_LIMIT
    assert CountingPasswordHasher.calls == settings.LOGIN_FAILURE_LIMIT


def test_admin_login_is_throttled(client, db, settings):
    UserFactory(username="root", is_staff=True, is_superuser=True)
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        response = client.post(
            "/admin/login/", {"username": "root", "password": "nope"}, REMOTE_ADDR="10.0.0.1"
        )
        assert response.status_code == 200 and "_auth_user_id" not in client.session
    response = client.post(
        "/admin/login/", {"username": "root", "password": PASSWORD}, REMOTE_ADDR="10.0.0.1"
    )
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Another address still signs in: the lockout is per (account, address).
    response = client.post(
        "/admin/login/", {"username": "root", "password": PASSWORD}, REMOTE_ADDR="10.0.0.2"
    )
    assert response.status_code == 302 and "_auth_user_id" in client.session
