"""/-/healthy and /-/ready (config.health): anonymous, and 503 naming what cannot be reached."""

from __future__ import annotations

import socket

import pytest
from django.db import connections

from config.health_probe import ready_url


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def extra_database(django_db_setup, django_db_blocker):
    """Add a database alias for one test (as a second DATABASES entry would), then remove it.

    Not inside a test case: Django's would refuse connections to an alias it was not told of
    (the health check only reads, so nothing needs rolling back)."""
    added = []
    django_db_blocker.unblock()

    def add(alias: str, **settings_dict) -> None:
        configured = connections.configure_settings(
            {"default": connections.settings["default"], alias: settings_dict}
        )
        connections.settings[alias] = configured[alias]
        added.append(alias)

    yield add
    for alias in added:
        if hasattr(connections._connections, alias):
            connections[alias].close()
            del connections[alias]
        del connections.settings[alias]
    django_db_blocker.restore()


def test_healthy_answers_without_an_account(client, settings):
    settings.ANONYMOUS_READ = False  # the private profile sends every other page to sign in
    response = client.get("/-/healthy")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_ready_answers_200_with_each_check(client, settings):
    settings.ANONYMOUS_READ = False
    response = client.get("/-/ready")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == {
        "database": "ok",
        "migrations": "ok",
        "storage": "ok",
        "staging": "ok",
    }
    assert response["Cache-Control"] == "no-store"
    assert client.head("/-/ready").status_code == 200
    assert client.post("/-/ready").status_code == 405


def test_ready_is_503_when_a_database_is_unreachable(client, extra_database):
    extra_database(
        "replica",
        ENGINE="django.db.backends.postgresql",
        HOST="127.0.0.1",
        PORT=_closed_port(),
        NAME="dockyard",
        USER="postgres",
        OPTIONS={"connect_timeout": 2},
    )
    response = client.get("/-/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["failed"] == ["database:replica"]
    assert body["checks"]["database:replica"] == "OperationalError"
    assert body["checks"]["migrations:replica"] == "skipped"
    assert body["checks"]["database"] == "ok"
    # Nothing about the server (address, user) is told to an anonymous caller.
    assert "127.0.0.1" not in response.content.decode()


def test_ready_is_503_while_migrations_are_unapplied(client, extra_database, tmp_path):
    extra_database("fresh", ENGINE="django.db.backends.sqlite3", NAME=str(tmp_path / "new.db"))
    response = client.get("/-/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["migrations:fresh"]
    assert body["checks"]["database:fresh"] == "ok"
    assert body["checks"]["migrations:fresh"] == "MigrationsPending"


@pytest.mark.django_db
def test_ready_is_503_when_the_blob_store_is_unreachable(client, settings):
    from django.core.files.storage import storages

    settings.HEALTH_CHECK_TIMEOUT = 2
    settings.STORAGES = {
        **settings.STORAGES,
        "registry": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "dockyard",
                "endpoint_url": f"http://127.0.0.1:{_closed_port()}",
                "access_key": "test",
                "secret_key": "test",
                "region_name": "us-east-1",
            },
        },
    }
    storages._storages.pop("registry", None)
    response = client.get("/-/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["storage"]
    assert body["checks"]["storage"] in ("EndpointConnectionError", "CheckTimedOut")


@pytest.mark.django_db
def test_ready_checks_the_broker_when_one_is_configured(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/15"  # the test machine's Redis
    try:
        import redis

        redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=1).ping()
    except Exception:  # noqa: BLE001
        pytest.skip("no Redis on 127.0.0.1:6379")
    response = client.get("/-/ready")
    assert response.status_code == 200, response.content
    assert response.json()["checks"]["broker"] == "ok"

    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    response = client.get("/-/ready")
    assert response.status_code == 503
    assert response.json()["failed"] == ["broker"]
    assert response.json()["checks"]["broker"] == "ConnectionError"


@pytest.mark.django_db
def test_ready_checks_the_redis_cache_beside_another_broker(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True  # no broker check
    settings.REDIS_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    response = client.get("/-/ready")
    assert response.status_code == 503
    assert response.json()["failed"] == ["cache"]


def test_the_container_probe_asks_its_own_port(monkeypatch):
    monkeypatch.setenv("HOST", "0.0.0.0")  # noqa: S104
    monkeypatch.setenv("PORT", "5123")
    monkeypatch.delenv("TLS_CERT", raising=False)
    assert ready_url() == "http://127.0.0.1:5123/-/ready"
    monkeypatch.setenv("HOST", "[::]")
    monkeypatch.setenv("TLS_CERT", "/data/tls/cert.pem")
    assert ready_url() == "https://[::1]:5123/-/ready"
