"""Settings come from the environment; a bad value stops start-up and names the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _check(env_overrides: dict[str, str], tmp_path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATA_DIR": str(tmp_path / "data"), **env_overrides}
    env.pop("DATABASE_URL", None)
    env.update({k: v for k, v in env_overrides.items()})
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEBUG", "perhaps"),
        ("TOKEN_EXPIRES_IN", "an hour"),
        ("WEBHOOK_ALLOW_PRIVATE_TARGETS", "maybe"),
        ("STORAGE_BACKEND", "floppy"),
        ("DATABASE_URL", "not a url"),
        ("REGISTRY_PROFILE", "secret"),
        ("SIGNUP", "sometimes"),
        ("DEFAULT_VISIBILITY", "hidden"),
    ],
)
def test_bad_environment_value_stops_start_up_naming_the_variable(tmp_path, name, value):
    result = _check({name: value}, tmp_path)
    assert result.returncode != 0
    assert name in result.stderr
    assert "ImproperlyConfigured" in result.stderr


@pytest.mark.parametrize(
    ("backend", "given", "missing"),
    [
        ("swift", {"SWIFT_AUTH_URL": "http://127.0.0.1:1/auth/v1.0"}, "SWIFT_USERNAME, SWIFT_KEY"),
        ("azure", {}, "AZURE_CONNECTION_STRING"),
    ],
)
def test_an_object_store_without_its_credentials_stops_start_up(tmp_path, backend, given, missing):
    cleared = {"SWIFT_AUTH_URL": "", "SWIFT_USERNAME": "", "SWIFT_KEY": ""}
    result = _check(
        {**cleared, "AZURE_CONNECTION_STRING": "", "STORAGE_BACKEND": backend, **given}, tmp_path
    )
    assert result.returncode != 0
    assert f"STORAGE_BACKEND={backend} needs the environment variables {missing}" in result.stderr


def test_object_stores_start_up_without_reaching_the_store(tmp_path):
    """Nothing listens on port 1: the storage connects on first use, not at start-up."""
    swift = {
        "STORAGE_BACKEND": "swift",
        "SWIFT_AUTH_URL": "http://127.0.0.1:1/auth/v1.0",
        "SWIFT_USERNAME": "account:user",
        "SWIFT_KEY": "key",
    }
    azure = {
        "STORAGE_BACKEND": "azure",
        "AZURE_CONNECTION_STRING": "AccountName=a;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:1/a;",
    }
    for env in (swift, azure):
        result = _check(env, tmp_path)
        assert result.returncode == 0, result.stderr


def test_embedded_default_generates_keys_once_and_reuses_them(tmp_path):
    first = _check({}, tmp_path)
    assert first.returncode == 0, first.stderr
    data = tmp_path / "data"
    secret = (data / "secret_key").read_text()
    signing = (data / "token_signing_key.pem").read_text()
    assert len(secret) > 40 and "PRIVATE KEY" in signing
    assert oct((data / "token_signing_key.pem").stat().st_mode & 0o777) == "0o600"
    assert _check({}, tmp_path).returncode == 0
    assert (data / "secret_key").read_text() == secret
    assert (data / "token_signing_key.pem").read_text() == signing


def test_secret_key_from_environment_wins_over_generated_one(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.SECRET_KEY)"],
        cwd=ROOT,
        env={
            **os.environ,
            "DATA_DIR": str(tmp_path),
            "SECRET_KEY": "from-the-env",
            "DJANGO_SETTINGS_MODULE": "config.settings",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "from-the-env"
    assert not (tmp_path / "secret_key").exists()


def _settings_of(env_overrides: dict[str, str], tmp_path, *names: str) -> list[str]:
    env = {**os.environ, "DATA_DIR": str(tmp_path / "data"), **env_overrides}
    env.pop("DATABASE_URL", None)
    code = "from django.conf import settings; " + "; ".join(
        f"print(repr(settings.{name}))" for name in names
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_an_ipv6_host_may_be_written_in_brackets(tmp_path):
    site_url, hosts = _settings_of(
        {"HOST": "[::1]", "PORT": "9000"}, tmp_path, "SITE_URL_DEFAULT", "ALLOWED_HOSTS"
    )
    assert site_url == "'http://[::1]:9000'"
    assert "'[::1]'" in hosts and "[[" not in hosts


def test_the_private_profile_presets_three_settings_each_overridable(tmp_path):
    names = ("ANONYMOUS_READ", "SIGNUP", "DEFAULT_VISIBILITY")
    assert _settings_of({}, tmp_path, *names) == ["True", "'open'", "'public'"]
    private = {"REGISTRY_PROFILE": "private"}
    assert _settings_of(private, tmp_path, *names) == ["False", "'closed'", "'private'"]
    assert _settings_of({**private, "SIGNUP": "invite"}, tmp_path, *names) == [
        "False",
        "'invite'",
        "'private'",
    ]
