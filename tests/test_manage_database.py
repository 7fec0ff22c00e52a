"""createsuperuser, changepassword and ensure_superuser say which database they write."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command, get_commands
from django.db import connection

from config.env import env_db
from hub.management.database import database_description, describe_database


def test_hubs_versions_of_the_account_commands_are_the_ones_manage_py_runs():
    commands = get_commands()
    assert commands["createsuperuser"] == "hub"
    assert commands["changepassword"] == "hub"


def test_postgres_is_described_without_its_password(monkeypatch):
    monkeypatch.setenv("DESCRIBED_URL", "postgres://postgres:s3cret@127.0.0.1:5432/dockyard")
    described = describe_database(env_db("DESCRIBED_URL", ""))
    assert described == "postgresql postgres@127.0.0.1:5432/dockyard"
    assert "s3cret" not in described


def test_sqlite_is_described_by_its_absolute_path(monkeypatch, tmp_path):
    monkeypatch.setenv("DESCRIBED_URL", f"sqlite:///{tmp_path}/db.sqlite3")
    assert describe_database(env_db("DESCRIBED_URL", "")) == f"sqlite {tmp_path}/db.sqlite3"


@pytest.mark.django_db
def test_createsuperuser_names_the_database_before_creating(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "correct-horse-battery")
    out = StringIO()
    call_command(
        "createsuperuser", "--noinput", "--username", "root", "--email", "r@x.test", stdout=out
    )
    lines = out.getvalue().splitlines()
    assert lines[0] == f"Database: {database_description()}"
    assert connection.vendor in lines[0]
    assert get_user_model().objects.get(username="root").is_superuser


@pytest.mark.django_db
def test_ensure_superuser_names_the_database(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "root")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "correct-horse-battery")
    out = StringIO()
    call_command("ensure_superuser", stdout=out)
    call_command("ensure_superuser", stdout=out)
    assert out.getvalue().splitlines() == [
        f"Created admin root (database: {database_description()}).",
        f"Admin root already exists (database: {database_description()}).",
    ]


@pytest.mark.django_db
def test_changepassword_names_the_database_of_the_account(monkeypatch, alice):
    # The terminal's password prompt (the standard library's) answers for the user.
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "a-new-long-passphrase")
    out = StringIO()
    call_command("changepassword", "alice", stdout=out)
    assert out.getvalue().splitlines()[0] == f"Database: {database_description()}"
    alice.refresh_from_db()
    assert alice.check_password("a-new-long-passphrase")
