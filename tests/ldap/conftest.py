"""LDAP sign-in tests against a real slapd (tests/ldap_server.py)."""

from __future__ import annotations

import uuid

import pytest

from config.ldap import ldap_settings
from tests.ldap_server import slapd_server  # noqa: F401 - session fixture


@pytest.fixture
def directory(slapd_server, settings, monkeypatch):  # noqa: F811
    """Point this test's settings at slapd, as the LDAP_* environment variables would."""
    for name, value in slapd_server.settings_env().items():
        monkeypatch.setenv(name, value)
    slapd_server.prefix = uuid.uuid4().hex[:6]  # users/groups unique per test (one server)
    slapd_server.configure = lambda **env: _configure(settings, monkeypatch, env)
    _configure(settings, monkeypatch, {})
    return slapd_server


def _configure(settings, monkeypatch, env: dict[str, str]) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name, value in ldap_settings().items():
        setattr(settings, name, value)
