"""The project's `.env` reaches every process (the environment wins), and manage.py finds the
server's DATA_DIR and database from any working directory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config import env as config_env

ROOT = Path(__file__).resolve().parent.parent
PRINT_SETTINGS = (
    "from django.conf import settings as s; "
    "print(s.SITE_URL, s.COMMENTS_PER_MINUTE, s.DATA_DIR, bool(s.SECRET_KEY), sep='|')"
)


def _python(code: str, env: dict, *, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env}
    environment = {name: value for name, value in environment.items() if value is not None}
    environment.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env={**environment, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_env_file_fills_settings_and_the_environment_wins(tmp_path):
    env_file = tmp_path / "dotenv"
    env_file.write_text(
        "# as `cp .env.example .env` then edited\n"
        f"DATA_DIR={tmp_path / 'from-dotenv'}\n"
        "export SITE_URL='https://hub.example.com'   # quoted, with a comment\n"
        "COMMENTS_PER_MINUTE=7\n"
        "SECRET_KEY=\n"
    )
    result = _python(PRINT_SETTINGS, {"DOCKYARD_ENV_FILE": str(env_file)})
    assert result.returncode == 0, result.stderr
    site_url, per_minute, data_dir, has_secret = result.stdout.strip().split("|")
    assert site_url == "https://hub.example.com"
    assert per_minute == "7"
    assert data_dir == str(tmp_path / "from-dotenv")
    assert has_secret == "True"  # the empty SECRET_KEY= means "not set": generated

    result = _python(
        PRINT_SETTINGS, {"DOCKYARD_ENV_FILE": str(env_file), "COMMENTS_PER_MINUTE": "9"}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().split("|")[1] == "9"


def test_a_malformed_line_stops_start_up_naming_the_file_and_line(tmp_path):
    env_file = tmp_path / "dotenv"
    env_file.write_text("PORT=8000\n\n# comment\nthis is not valid\nHOST=127.0.0.1\n")
    result = _python(
        PRINT_SETTINGS, {"DOCKYARD_ENV_FILE": str(env_file), "DATA_DIR": str(tmp_path)}
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{env_file}, line 4: 'this is not valid' is not a NAME=value assignment" in (
        result.stderr
    )


def test_a_line_without_a_value_is_an_error_too(tmp_path):
    env_file = tmp_path / "dotenv"
    env_file.write_text("DEBUG\n")
    with pytest.raises(ImproperlyConfigured, match="line 1: 'DEBUG' is not a NAME=value"):
        config_env.env_file_values(env_file)


def test_a_missing_project_env_file_is_fine_a_missing_named_one_is_not(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKYARD_ENV_FILE", str(tmp_path / "absent"))
    with pytest.raises(ImproperlyConfigured, match="Cannot read .*absent: No such file"):
        config_env.read_env()
    monkeypatch.delenv("DOCKYARD_ENV_FILE")
    monkeypatch.delenv("PYTEST_VERSION")
    monkeypatch.setattr(config_env, "PROJECT_DIR", tmp_path)
    assert config_env.env_file() == tmp_path / ".env"
    assert config_env.read_env() == {}


def test_the_project_env_file_is_read_except_under_pytest(monkeypatch):
    monkeypatch.delenv("DOCKYARD_ENV_FILE", raising=False)
    assert os.environ.get("PYTEST_VERSION")  # set by pytest, inherited by the servers tests start
    assert config_env.env_file() is None
    monkeypatch.delenv("PYTEST_VERSION")
    assert config_env.env_file() == ROOT / ".env"
    monkeypatch.setenv("DOCKYARD_ENV_FILE", "")
    assert config_env.env_file() is None


def test_run_sh_gets_the_values_as_shell_exports_quoted_exactly(tmp_path):
    env_file = tmp_path / "dotenv"
    env_file.write_text(
        'EMAIL_HOST_PASSWORD="it\'s $HOME; `rm -rf /` \\"quoted\\""\n'
        'DEFAULT_FROM_EMAIL="Dockyard <hub@example.com>"\n'
        "HOST=0.0.0.0\n"
    )
    env = {
        **os.environ,
        "DOCKYARD_ENV_FILE": str(env_file),
        "HOST": "127.0.0.1",  # the environment wins: not exported again
    }
    script = (
        'exports="$(.venv/bin/python -m config.env)"; eval "$exports"; '
        'printf "%s|%s|%s" "$EMAIL_HOST_PASSWORD" "$DEFAULT_FROM_EMAIL" "$HOST"'
    )
    result = subprocess.run(
        ["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    password = config_env.env_file_values(env_file)["EMAIL_HOST_PASSWORD"]
    assert result.stdout == f"{password}|Dockyard <hub@example.com>|127.0.0.1"
    assert password == 'it\'s $HOME; `rm -rf /` "quoted"'


def test_env_example_copied_to_env_is_a_working_configuration(tmp_path):
    env_file = tmp_path / ".env"
    shutil.copy(ROOT / ".env.example", env_file)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
            "DOCKYARD_ENV_FILE": str(env_file),
            "DATA_DIR": str(tmp_path / "data"),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "secret_key").exists()


def test_relative_data_dir_and_sqlite_path_resolve_against_the_project_from_any_cwd(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    relative = os.path.relpath(tmp_path / "data", ROOT)  # ../../tmp/…: relative, outside ROOT
    code = (
        "from django.conf import settings as s; "
        "print(s.DATA_DIR, s.DATABASES['default']['NAME'], sep='|')"
    )
    result = _python(code, {"DATA_DIR": relative}, cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{tmp_path / 'data'}|{tmp_path / 'data' / 'db.sqlite3'}"

    url = f"sqlite:///{os.path.relpath(tmp_path / 'other.sqlite3', ROOT)}"
    code = "from django.conf import settings as s; print(s.DATABASES['default']['NAME'])"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=elsewhere,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATA_DIR": str(tmp_path / "data"),
            "DATABASE_URL": url,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()).resolve() == tmp_path / "other.sqlite3"
