"""OpenID Connect tests against a real provider (tests/oidc_server.py, django-oauth-toolkit)."""

from __future__ import annotations

import uuid

import pytest

from config.ldap import ldap_settings
from config.oidc import oidc_settings
from tests.oidc_server import oidc_provider  # noqa: F401 - session fixture

CALLBACK = "http://testserver/oidc/callback/"


@pytest.fixture
def idp(oidc_provider, settings, monkeypatch):  # noqa: F811
    """The provider with a client for the test client's callback; settings point at it as the
    OIDC_* variables would. `idp.configure(**env)` changes variables (OIDC_GROUP_MAP...)."""
    if not hasattr(oidc_provider, "client"):  # one client per run: each costs a subprocess
        oidc_provider.client = oidc_provider.client_add([CALLBACK], ["http://testserver/"])
    for name, value in oidc_provider.settings_env(*oidc_provider.client).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SITE_URL", "http://testserver")
    settings.SITE_URL = "http://testserver"
    oidc_provider.prefix = uuid.uuid4().hex[:6]  # users unique per test (one provider)
    oidc_provider.configure = lambda **env: _configure(settings, monkeypatch, env)
    _configure(settings, monkeypatch, {})
    return oidc_provider


def _configure(settings, monkeypatch, env: dict[str, str]) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    values = ldap_settings()
    values.update(oidc_settings(values["AUTHENTICATION_BACKENDS"]))
    for name, value in values.items():
        setattr(settings, name, value)


def oidc_sign_in(client, idp, username: str, password: str, *, follow=False):
    """Start at Dockyard's button, sign in and consent at the provider, return the callback."""
    start = client.get("/oidc/authenticate/")
    assert start.status_code == 302, start.content
    callback = idp.authorize(start["Location"], username, password)
    assert callback.startswith(CALLBACK), callback
    return client.get(callback.removeprefix("http://testserver"), follow=follow)
