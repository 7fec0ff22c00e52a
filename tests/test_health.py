"""/-/healthy and /-/ready (config.health): anonymous, and 503 naming what cannot be reached."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from django.db import connections

from config.health_probe import ready_url
from tests.e2e.server import free_port  # bound, then released: nothing listens there


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
        PORT=free_port(),
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
                "endpoint_url": f"http://127.0.0.1:{free_port()}",
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

    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"
    response = client.get("/-/ready")
    assert response.status_code == 503
    assert response.json()["failed"] == ["broker"]
    assert response.json()["checks"]["broker"] == "ConnectionError"


@pytest.mark.django_db
def test_ready_checks_the_redis_cache_beside_another_broker(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True  # no broker check
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
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


class ThrowawayPostgres:
    """A PostgreSQL cluster of its own (initdb into a directory, pg_ctl on a free port), so a
    test can stop a database server and start it again. PostgreSQL refuses to run as root:
    as root, the cluster belongs to the postgres account."""

    def __init__(self):
        # Not under pytest's tmp_path: its parents are private to root, unreachable for postgres.
        self.data = Path(tempfile.mkdtemp(prefix="dockyard-pg-"))
        self.port = free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.data, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def _run(self, *argv: str) -> None:
        result = subprocess.run([*self.as_user, *argv], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"{argv[0]}: {result.stdout}{result.stderr}"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        # -l: the server writes to a file, not to the pipes this test reads pg_ctl's output from.
        log = str(self.data / "server.log")
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "-t", "60", "start"
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")


@pytest.fixture
def throwaway_postgres():
    if shutil.which("initdb") is None or shutil.which("pg_ctl") is None:
        pytest.skip("no PostgreSQL server programs (initdb, pg_ctl)")
    server = ThrowawayPostgres()
    server.start()
    yield server
    subprocess.run(
        [*server.as_user, "pg_ctl", "-D", str(server.data), "-m", "immediate", "stop"],
        capture_output=True,
        timeout=60,
    )
    shutil.rmtree(server.data, ignore_errors=True)


def test_ready_fails_while_the_database_server_is_stopped_and_recovers(
    client, extra_database, throwaway_postgres
):
    extra_database(
        "primary",
        ENGINE="django.db.backends.postgresql",
        HOST="127.0.0.1",
        PORT=throwaway_postgres.port,
        NAME="postgres",
        USER="postgres",
        CONN_MAX_AGE=60,  # a connection kept across requests, as `make run` and the image do
        OPTIONS={"connect_timeout": 2},
    )

    def database_check() -> str:
        return client.get("/-/ready").json()["checks"]["database:primary"]

    assert database_check() == "ok"
    throwaway_postgres.stop()
    assert database_check() == "OperationalError"
    throwaway_postgres.start()
    assert database_check() == "ok"
