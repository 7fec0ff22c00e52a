"""`docker login` against Dockyard: password, access token and wrong password; plain and TLS."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import requests

from tests.e2e.server import Server

PASSWORD = "login-e2e-password"
GUNICORN_ONLY = (
    ".venv/bin/python manage.py migrate --noinput -v0 && "
    "exec .venv/bin/gunicorn -c config/gunicorn.py config.wsgi"
)


def _access_token(server: Server, username: str) -> str:
    return server.python(
        "from django.contrib.auth import get_user_model\n"
        "from hub.services.access_tokens import access_token_create\n"
        f"user = get_user_model().objects.get(username={username!r})\n"
        "_token, secret = access_token_create(user=user, label='e2e', scopes=['repo:write'])\n"
        "print(secret)\n"
    ).split()[-1]  # `manage.py shell` may print a banner first


def _login(docker, address: str, username: str, secret: str, check: bool = True):
    return docker.cli(
        "login", address, "-u", username, "--password-stdin", input=secret, check=check
    )


def _stored_credentials(config_dir: Path, address: str) -> dict:
    config = json.loads((config_dir / "config.json").read_text())
    return config["auths"][address]


def test_docker_login_with_password_and_access_token(server, dockerd, tmp_path):
    server.create_user("loginpw", PASSWORD)
    challenge = requests.get(server.url + "/v2/", timeout=10)
    assert challenge.status_code == 401
    assert challenge.headers["WWW-Authenticate"].startswith(
        f'Bearer realm="{server.url}/auth/token"'
    )

    docker = dockerd.client(tmp_path / "password")
    result = _login(docker, server.address, "loginpw", PASSWORD)
    assert "Login Succeeded" in result.stdout
    # The engine keeps the refresh token (identity token) rather than the password...
    stored = _stored_credentials(tmp_path / "password", server.address)
    assert stored.get("identitytoken")
    # ...and trades it for registry tokens (POST grant_type=refresh_token): a pull of a missing
    # repository in the user's own namespace is "not found", not "unauthorized".
    pull = docker.cli("pull", f"{server.address}/loginpw/nothing:latest", check=False)
    assert pull.returncode != 0
    assert "unauthorized" not in pull.stderr.lower() and "denied" not in pull.stderr.lower()

    secret = _access_token(server, "loginpw")
    docker = dockerd.client(tmp_path / "token")
    assert "Login Succeeded" in _login(docker, server.address, "loginpw", secret).stdout


def test_docker_login_with_wrong_password_fails(server, dockerd, tmp_path):
    server.create_user("loginbad", PASSWORD)
    docker = dockerd.client(tmp_path / "config")
    result = _login(docker, server.address, "loginbad", "not-the-password", check=False)
    assert result.returncode != 0
    assert "Login Succeeded" not in result.stdout
    assert "unauthorized" in (result.stdout + result.stderr).lower()


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    """Dockyard over HTTPS on [::1], its self-signed certificate trusted via certs.d."""
    data_dir = tmp_path_factory.mktemp("dockyard-tls")
    tls_dir = data_dir / "tls"
    env = {
        "DATABASE_URL": f"sqlite:///{data_dir / 'db.sqlite3'}",
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "",
        "TLS_CERT": str(tls_dir / "cert.pem"),
        "TLS_KEY": str(tls_dir / "key.pem"),
        "WEB_WORKERS": "1",
    }
    instance = Server(data_dir, host="::1", env=env)
    instance.manage("make_certs", "--host", "ip6-localhost", "--out", str(tls_dir))
    certs_d = Path("/etc/docker/certs.d") / f"ip6-localhost:{instance.port}"
    try:
        certs_d.mkdir(parents=True, exist_ok=True)
    except PermissionError:
        pytest.skip("cannot write /etc/docker/certs.d (needs root)")
    shutil.copy(tls_dir / "cert.pem", certs_d / "ca.crt")
    try:
        # gunicorn alone: login needs no Celery worker, and the suite shares two cores.
        instance.start(["bash", "-c", GUNICORN_ONLY])
        yield instance
    finally:
        instance.stop()
        shutil.rmtree(certs_d, ignore_errors=True)


def test_docker_login_over_tls_with_self_signed_certificate(tls_server, dockerd, tmp_path):
    tls_server.create_user("logintls", PASSWORD)
    address = f"ip6-localhost:{tls_server.port}"
    ca = tls_server.data_dir / "tls" / "cert.pem"
    challenge = requests.get(f"https://{address}/v2/", verify=str(ca), timeout=10)
    assert challenge.status_code == 401
    assert f'realm="https://{address}/auth/token"' in challenge.headers["WWW-Authenticate"]

    docker = dockerd.client(tmp_path / "config")
    assert "Login Succeeded" in _login(docker, address, "logintls", PASSWORD).stdout
    secret = _access_token(tls_server, "logintls")
    assert "Login Succeeded" in _login(docker, address, "logintls", secret).stdout
    bad = _login(docker, address, "logintls", "wrong-password", check=False)
    assert bad.returncode != 0
