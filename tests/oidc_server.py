"""A real OpenID provider for tests: tests/oidc_provider (django-oauth-toolkit) on a loopback
port, its own SQLite database and an RSA key generated at start.

`oidc_provider` is a session fixture; import it into a conftest.py or test module:

    from tests.oidc_server import oidc_provider  # noqa: F401
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.e2e.server import ROOT, free_port, wait_for_http
from tests.processes import terminate

SETTINGS = "tests.oidc_provider.settings"
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


class OIDCProvider:
    def __init__(self, root: Path):
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.issuer = f"{self.url}/o"
        self.process: subprocess.Popen | None = None
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": SETTINGS,
            "OIDC_PROVIDER_DB": str(root / "provider.sqlite3"),
            "OIDC_PROVIDER_KEY_FILE": str(root / "oidc.key"),
            "OIDC_PROVIDER_ISSUER": self.issuer,
        }
        for name in ("PYTEST_CURRENT_TEST", "DATABASE_URL"):
            self.env.pop(name, None)

    def start(self) -> OIDCProvider:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        (self.root / "oidc.key").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        self._django("migrate", "--noinput")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "django", "runserver", f"127.0.0.1:{self.port}",
             "--noreload", "--skip-checks"],
            cwd=ROOT, env=self.env, stdout=open(self.root / "provider.log", "ab"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_for_http(self.issuer + "/.well-known/openid-configuration", process=self.process)
        return self

    def stop(self) -> None:
        terminate(self.process)

    def _django(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "django", *args],
            cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"provider {' '.join(args)} failed: {result.stderr}")
        return result.stdout

    def python(self, code: str) -> str:
        return self._django("shell", "--no-imports", "-c", code)

    def user_add(self, username: str, password: str, *, email: str = "", groups=()) -> str:
        """A user of the provider; returns its subject (sub: the primary key, as DOT sends)."""
        return (
            self.python(
                "from django.contrib.auth.models import Group, User\n"
                f"u = User.objects.create_user({username!r}, email={email!r},"
                f" password={password!r}, first_name={username.title()!r})\n"
                f"for g in {list(groups)!r}: u.groups.add(Group.objects.get_or_create(name=g)[0])\n"
                "print(u.pk)\n"
            )
            .strip()
            .splitlines()[-1]
        )

    def groups_set(self, username: str, groups) -> None:
        self.python(
            "from django.contrib.auth.models import Group, User\n"
            f"u = User.objects.get(username={username!r})\n"
            f"u.groups.set([Group.objects.get_or_create(name=g)[0] for g in {list(groups)!r}])\n"
        )

    def rename(self, old: str, new: str) -> None:
        self.python(
            "from django.contrib.auth.models import User\n"
            f"User.objects.filter(username={old!r}).update(username={new!r})\n"
        )

    def client_add(self, redirect_uris: list[str], post_logout_uris: list[str] = ()) -> tuple:
        """A confidential authorization-code client; returns (client_id, client_secret)."""
        client_id, secret = uuid.uuid4().hex, uuid.uuid4().hex
        self.python(
            "from oauth2_provider.models import Application\n"
            f"Application.objects.create(name='Dockyard', client_id={client_id!r},"
            f" client_secret={secret!r}, client_type='confidential',"
            " authorization_grant_type='authorization-code', algorithm='RS256',"
            f" redirect_uris={' '.join(redirect_uris)!r},"
            f" post_logout_redirect_uris={' '.join(post_logout_uris)!r})\n"
        )
        return client_id, secret

    def settings_env(self, client_id: str, secret: str, group_map: dict | None = None) -> dict:
        return {
            "OIDC_ISSUER": self.issuer,
            "OIDC_CLIENT_ID": client_id,
            "OIDC_CLIENT_SECRET": secret,
            "OIDC_PROVIDER_NAME": "Test IdP",
            "OIDC_GROUP_MAP": json.dumps(group_map or {}),
        }

    def authorize(self, authorize_url: str, username: str, password: str, *, consent=True) -> str:
        """Sign in at the provider as a browser would and consent; return the callback URL
        (the redirect with ?code&state) without following it."""
        session = requests.Session()
        page = session.get(authorize_url, timeout=10)  # -> the provider's login form
        hidden = dict(_HIDDEN.findall(page.text))
        page = session.post(
            page.url,
            data={"username": username, "password": password, "next": html.unescape(
                hidden.get("next", "")), "csrfmiddlewaretoken": hidden["csrfmiddlewaretoken"]},
            timeout=10,
        )  # fmt: skip
        if "authorizationForm" not in page.text:
            raise AssertionError(f"no consent page: {page.status_code} {page.text[:500]}")
        fields = {k: html.unescape(v) for k, v in _HIDDEN.findall(page.text)}
        if consent:
            fields["allow"] = "Authorize"
        answer = session.post(page.url, data=fields, allow_redirects=False, timeout=10)
        assert answer.status_code == 302, answer.text[:500]
        return urljoin(page.url, answer.headers["Location"])


@pytest.fixture(scope="session")
def oidc_provider():
    pytest.importorskip("oauth2_provider", reason="django-oauth-toolkit (requirements-dev.txt)")
    root = Path(tempfile.mkdtemp(prefix="dockyard-oidc-"))
    provider = OIDCProvider(root).start()
    try:
        yield provider
    finally:
        provider.stop()
        shutil.rmtree(root, ignore_errors=True)
