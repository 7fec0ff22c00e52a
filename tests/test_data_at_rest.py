"""Data at rest: secrets encrypted in the database, files under DATA_DIR private to the service."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.storage import storages
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from config import data_dir
from registry_api.models import ProxyCache
from registry_api.storage import blob_path
from tests.registry_api.conftest import bearer, blob_upload, push_access

ROOT = Path(__file__).resolve().parents[1]
UPSTREAM_PASSWORD = "upstream-pa55word"


def _raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_proxy_cache_password_is_encrypted_in_the_database(db):
    proxy = ProxyCache.objects.create(
        namespace="hub", upstream_url="https://registry.example", password=UPSTREAM_PASSWORD
    )
    assert UPSTREAM_PASSWORD not in _raw("registry_api_proxycache", "password", proxy.pk)
    assert ProxyCache.objects.get(pk=proxy.pk).password == UPSTREAM_PASSWORD
    empty = ProxyCache.objects.create(namespace="quay", upstream_url="https://quay.example")
    assert _raw("registry_api_proxycache", "password", empty.pk) == ""


@pytest.mark.django_db(transaction=True)
def test_migrations_encrypt_the_secrets_stored_in_clear():
    executor = MigrationExecutor(connection)
    before = [("webhooks", "0003_webhook_secret_default"), ("registry_api", "0001_initial")]
    executor.migrate(before)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO registry_api_proxycache (namespace, upstream_url, username, password,"
            " cache_ttl_seconds, require_sign_in, created_at)"
            " VALUES ('hub', 'https://registry.example', 'me', %s, 60, false, CURRENT_TIMESTAMP)",
            [UPSTREAM_PASSWORD],
        )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    proxy = ProxyCache.objects.get(namespace="hub")
    assert UPSTREAM_PASSWORD not in _raw("registry_api_proxycache", "password", proxy.pk)
    assert proxy.password == UPSTREAM_PASSWORD


def test_blobs_are_stored_private(client, alice, public_repo):
    digest = blob_upload(
        client, "alice/app", b"private bytes", bearer("alice", push_access("alice/app"))
    )
    storage = storages["registry"]
    stored = Path(storage.path(blob_path(digest)))
    assert _mode(stored) == 0o600
    assert _mode(stored.parent) == 0o700


def test_existing_files_are_made_private_once(tmp_path):
    root = tmp_path / "data"
    (root / "storage" / "blobs").mkdir(parents=True)
    (root / "db.sqlite3").write_text("x")
    (root / "storage" / "blobs" / "one").write_text("x")
    for path in (root, root / "storage", root / "storage" / "blobs"):
        path.chmod(0o755)
    for path in (root / "db.sqlite3", root / "storage" / "blobs" / "one"):
        path.chmod(0o644)
    data_dir.restrict(root)
    assert _mode(root) == _mode(root / "storage") == _mode(root / "storage" / "blobs") == 0o700
    assert _mode(root / "db.sqlite3") == _mode(root / "storage" / "blobs" / "one") == 0o600


def test_a_fresh_data_dir_is_created_private(tmp_path):
    data = tmp_path / "data"
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DATA_DIR": str(data),
        "DATABASE_URL": f"sqlite:///{data / 'db.sqlite3'}",
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=ROOT,
        env=environment,
        check=True,
        timeout=300,
        umask=0o022,  # what a shell usually starts with
    )
    made = [data, *data.rglob("*")]
    assert {p.name for p in made} >= {"db.sqlite3", "secret_key", "data_encryption_key"}
    loose = {str(p.relative_to(tmp_path)): oct(_mode(p)) for p in made if _mode(p) & 0o077}
    assert loose == {}
