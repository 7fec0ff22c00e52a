"""`make run` tells the truth: the URL once it answers, a taken port as one sentence and exit 1,
no warnings for the registry's normal handshakes, the project's .env read by every process, and
manage.py on the server's database from any directory."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.e2e.server import ROOT, Server, free_port

ROOT_PASSWORD = "root-from-dotenv-pw"
MISSING_BLOB = "sha256:" + "0" * 64
ANNOUNCED = re.compile(r"^Dockyard on (\S+) \(registry at /v2/\)\..*Ctrl-C stops it\.$", re.M)


def _watch_for_announcement(log_path: Path, seen: dict) -> threading.Thread:
    """Once the URL line shows up in the log, ask that URL at once: it must already answer."""

    def watch():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            text = log_path.read_text(errors="replace") if log_path.exists() else ""
            match = ANNOUNCED.search(text)
            if match:
                try:
                    seen["status"] = requests.get(match.group(1) + "v2/", timeout=5).status_code
                except requests.RequestException as exc:
                    seen["status"] = repr(exc)
                return
            time.sleep(0.02)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """run.sh with DATA_DIR relative to the project (as in .env.example) and a .env file."""
    base = tmp_path_factory.mktemp("runtruth")
    data = base / "data"
    env_file = base / "dotenv"
    env_file.write_text(
        "PORT=1                              # the environment's PORT wins\n"
        "SITE_URL=http://registry.example.test:5000\n"
        "DJANGO_SUPERUSER_USERNAME=root\n"
        f"DJANGO_SUPERUSER_PASSWORD={ROOT_PASSWORD}\n"
        "DJANGO_SUPERUSER_EMAIL=root@example.test\n"
    )
    env = {
        "DATA_DIR": os.path.relpath(data, ROOT),  # ../../tmp/…: relative, resolved from ROOT
        "DATABASE_URL": "",
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "",
        "DOCKYARD_ENV_FILE": str(env_file),
    }
    server = Server(data, env=env)
    seen: dict = {}
    watcher = _watch_for_announcement(server.log_path, seen)
    server.start()
    watcher.join(timeout=30)
    yield server, data, seen
    server.stop()


def test_the_url_is_announced_once_when_the_server_answers(served):
    server, _, seen = served
    assert seen.get("status") == 401, (seen, server.log())
    log = server.log()
    expected = (
        f"Dockyard on http://127.0.0.1:{server.port}/ (registry at /v2/)."
        " Public address (SITE_URL): http://registry.example.test:5000. Ctrl-C stops it."
    )
    assert log.count("Dockyard on ") == 1, log  # two workers, one announcement
    assert expected in log.splitlines(), log
    assert log.index("Listening at:") < log.index("Dockyard on"), log


def test_run_sh_and_its_processes_read_the_env_file_and_the_environment_wins(served):
    server, data, _ = served
    # run.sh saw DJANGO_SUPERUSER_* from the file (and the gunicorn worker its SITE_URL, above);
    # the server answers on the environment's PORT, not the file's PORT=1.
    assert f"Created admin root (database: sqlite {data / 'db.sqlite3'})." in server.log()
    answer = requests.get(server.url + "/v2/", auth=("root", ROOT_PASSWORD), timeout=10)
    assert answer.status_code == 200


def test_a_docker_login_handshake_leaves_no_request_warnings(served):
    server, _, _ = served
    challenge = requests.get(server.url + "/v2/", timeout=10)
    assert challenge.status_code == 401
    realm = re.search(r'realm="([^"]+)"', challenge.headers["WWW-Authenticate"]).group(1)
    token = requests.get(
        realm,
        params={"service": "dockyard", "scope": "repository:root/app:pull,push"},
        auth=("root", ROOT_PASSWORD),
        timeout=10,
    )
    assert token.status_code == 200, token.text
    bearer = {"Authorization": f"Bearer {token.json()['token']}"}
    assert requests.get(server.url + "/v2/", headers=bearer, timeout=10).status_code == 200
    probe = requests.head(
        f"{server.url}/v2/root/app/blobs/{MISSING_BLOB}", headers=bearer, timeout=10
    )
    assert probe.status_code == 404
    # A portal 404 is still a warning: once it is in the log, the ones above would be too.
    assert requests.get(server.url + "/no-such-page/", timeout=10).status_code == 404
    deadline = time.monotonic() + 10
    while "Not Found: /no-such-page/" not in server.log() and time.monotonic() < deadline:
        time.sleep(0.1)
    log = server.log()
    assert "Not Found: /no-such-page/" in log, log
    assert "Unauthorized: /v2/" not in log, log
    assert "Not Found: /v2/" not in log, log


def test_manage_py_from_another_directory_writes_the_servers_database(served, tmp_path):
    server, data, _ = served
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "createsuperuser", "--noinput"]
        + ["--username", "ops", "--email", "ops@example.test"],
        cwd=tmp_path,  # DATA_DIR is relative: to the project, not to this directory
        env={**server.env, "DJANGO_SUPERUSER_PASSWORD": "ops-long-passphrase"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"Database: sqlite {data / 'db.sqlite3'}"
    answer = requests.get(server.url + "/v2/", auth=("ops", "ops-long-passphrase"), timeout=10)
    assert answer.status_code == 200
    assert not (tmp_path / os.path.relpath(data, ROOT)).exists()


def test_a_killed_gunicorn_comes_back_and_announces_again(served):
    server, _, _ = served
    master = int(re.findall(r"web started \(pid (\d+)\)", server.log())[-1])
    os.kill(master, signal.SIGKILL)  # its workers keep the port a moment before they notice
    deadline = time.monotonic() + 60
    while server.log().count("Dockyard on ") < 2 and time.monotonic() < deadline:
        assert server.process.poll() is None, server.log()
        time.sleep(0.2)
    log = server.log()
    assert "web killed by SIGKILL; restarting" in log, log
    assert log.count("Dockyard on ") == 2, log
    assert requests.get(server.url + "/v2/", timeout=10).status_code == 401


@pytest.fixture
def taken_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def _clean_env(tmp_path: Path, **extra: str) -> dict:
    env = {**os.environ, "DATA_DIR": str(tmp_path / "data"), "ACCESS_LOG": "0", **extra}
    for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    return env


def test_a_taken_port_is_one_sentence_and_exit_1_before_anything_starts(taken_port, tmp_path):
    started = time.monotonic()
    result = subprocess.run(
        [str(ROOT / "scripts" / "run.sh")],
        cwd=ROOT,
        env=_clean_env(tmp_path, PORT=str(taken_port)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result
    assert result.stderr.strip() == (
        f"Port {taken_port} on 127.0.0.1 is already in use: stop the other server"
        f" or set PORT=... (e.g. PORT={taken_port + 1} make run)."
    )
    assert "supervise:" not in result.stdout + result.stderr
    assert elapsed < 10, elapsed


def test_a_port_taken_after_the_check_stops_gunicorn_and_the_worker(taken_port, tmp_path):
    """The same when the port is taken between run.sh's check and gunicorn's start (or when the
    supervisor restarts gunicorn): no restart loop, the other program is stopped too."""
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "scripts/supervise.py"]
        + ["web", ".venv/bin/gunicorn", "-c", "config/gunicorn.py", "config.wsgi", "::"]
        + ["worker", sys.executable, "-c", "import time; time.sleep(120)"],
        cwd=ROOT,
        env=_clean_env(tmp_path, PORT=str(taken_port), STOP_GRACE_SECONDS="5"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result
    assert f"Port {taken_port} on 127.0.0.1 is already in use" in result.stderr
    assert "web cannot run as configured (status 78): stopping" in result.stderr
    assert result.stderr.count("web started") == 1, result.stderr
    worker = int(re.search(r"worker started \(pid (\d+)\)", result.stderr).group(1))
    with pytest.raises(ProcessLookupError):
        os.kill(worker, 0)
    assert elapsed < 10, result.stderr


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


def _announcement(tmp_path: Path, host: str, **extra: str) -> tuple[str, str]:
    """Start gunicorn as run.sh does; return its announcement and what its URL answers."""
    port = free_port("127.0.0.1" if host == "0.0.0.0" else host)  # noqa: S104
    env = _clean_env(tmp_path, HOST=host, PORT=str(port), WEB_WORKERS="1", **extra)
    output = tmp_path / "gunicorn.log"
    with open(output, "wb") as log:
        process = subprocess.Popen(
            [".venv/bin/gunicorn", "-c", "config/gunicorn.py", "config.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while not ANNOUNCED.search(output.read_text()) and time.monotonic() < deadline:
            assert process.poll() is None, output.read_text()
            time.sleep(0.1)
        match = ANNOUNCED.search(output.read_text())
        assert match, output.read_text()
        answer = requests.get(match.group(1) + "v2/", timeout=10, verify=False)  # noqa: S501
        return match.group(0).replace(str(port), "PORT"), f"{answer.status_code}"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def test_tls_is_announced_as_https(tmp_path):
    tls = tmp_path / "tls"
    subprocess.run(
        [sys.executable, "manage.py", "make_certs", "--host", "127.0.0.1", "--out", str(tls)],
        cwd=ROOT,
        env=_clean_env(tmp_path),
        check=True,
        capture_output=True,
        timeout=120,
    )
    line, answer = _announcement(
        tmp_path, "127.0.0.1", TLS_CERT=str(tls / "cert.pem"), TLS_KEY=str(tls / "key.pem")
    )
    assert line == "Dockyard on https://127.0.0.1:PORT/ (registry at /v2/). Ctrl-C stops it."
    assert answer == "401"


def test_an_ipv6_address_is_bracketed(tmp_path):
    if not _ipv6_loopback():
        pytest.skip("no IPv6 loopback on this machine")
    line, answer = _announcement(tmp_path, "::1")
    assert line == "Dockyard on http://[::1]:PORT/ (registry at /v2/). Ctrl-C stops it."
    assert answer == "401"


def test_a_wildcard_bind_announces_loopback_and_the_network_addresses(tmp_path):
    line, answer = _announcement(tmp_path, "0.0.0.0")  # noqa: S104
    assert line.startswith("Dockyard on http://127.0.0.1:PORT/ (registry at /v2/). On the network:")
    listed = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True).stdout
    lan = [
        a for a in (row.split()[3].split("/")[0] for row in listed.splitlines()) if a[:4] != "127."
    ]
    assert all(f"http://{address}:PORT/" in line for address in lan), line
    assert line.endswith(
        "Set SITE_URL to the address clients use for links in e-mails and webhooks."
        " Ctrl-C stops it."
    )
    assert answer == "401"


def test_no_announcement_when_the_application_cannot_load(tmp_path):
    result = subprocess.run(
        [".venv/bin/gunicorn", "-c", "config/gunicorn.py", "config.wsgi"],
        cwd=ROOT,
        env=_clean_env(tmp_path, PORT=str(free_port()), WEB_WORKERS="1", DEBUG="perhaps"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Environment variable DEBUG is invalid" in result.stderr
    assert "Dockyard on" not in result.stdout + result.stderr
