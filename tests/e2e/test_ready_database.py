"""/-/ready follows the database: a throwaway PostgreSQL of our own (initdb in a temporary
directory, a free loopback port), Dockyard served on it by `make run`'s scripts. Stopping the
database turns /-/ready to 503 naming it; starting it again brings 200 back. /-/healthy stays
200 throughout: the process is alive, only not ready."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

from tests.e2e.server import Server, free_port


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.skip("needs PostgreSQL's server binaries (initdb, pg_ctl)")
    return Path(found[-1]).parent


class Postgres:
    """initdb/pg_ctl as a non-root account when we are root (initdb refuses root)."""

    def __init__(self):
        self.bin = _pg_bin()
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="dockyard-pg-"))
        self.data = self.root / "data"
        self.account = None
        if os.geteuid() == 0:
            account = next((n for n in ("postgres", "nobody") if _exists(n)), None)
            if account is None:
                pytest.skip("running as root with no account to run PostgreSQL as")
            self.account = pwd.getpwnam(account)
            os.chown(self.root, self.account.pw_uid, self.account.pw_gid)

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.account is not None:
            uid, gid = self.account.pw_uid, self.account.pw_gid
            command = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120, cwd=self.root)

    def init(self) -> Postgres:
        self._run("initdb", "-D", str(self.data), "-U", "dockyard", "--auth=trust", "-E", "UTF8")
        return self

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -F"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "pg.log"),
                  "-o", options, "-w", "-t", "60", "start")  # fmt: skip

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def create_database(self, name: str) -> None:
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "dockyard", name)

    @property
    def url(self) -> str:
        return f"postgres://dockyard@127.0.0.1:{self.port}/dockyard"

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _exists(account: str) -> bool:
    try:
        pwd.getpwnam(account)
    except KeyError:
        return False
    return True


@pytest.fixture(scope="module")
def postgres():
    instance = Postgres().init()
    instance.start()
    instance.create_database("dockyard")
    yield instance
    with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
        instance.stop()
    instance.remove()


@pytest.fixture(scope="module")
def server(tmp_path_factory, postgres):
    env = {"DATABASE_URL": postgres.url, "REDIS_URL": "", "CELERY_BROKER_URL": "",
           "HEALTH_CHECK_TIMEOUT": "2"}  # fmt: skip
    instance = Server(tmp_path_factory.mktemp("dockyard-ready"), env=env).start()
    yield instance
    instance.stop()


def _get(server: Server, path: str) -> requests.Response:
    return requests.get(server.url + path, timeout=30)


def _wait_for_status(server: Server, status: int, timeout: float = 60) -> requests.Response:
    deadline = time.monotonic() + timeout
    while True:
        answer = _get(server, "/-/ready")
        if answer.status_code == status or time.monotonic() > deadline:
            return answer
        time.sleep(0.5)


def test_ready_follows_the_database(server, postgres):
    ready = _get(server, "/-/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["database"] == "ok"
    assert _get(server, "/-/healthy").status_code == 200

    postgres.stop()
    # Each worker may hold a connection from before: every one must notice.
    for _ in range(6):
        down = _get(server, "/-/ready")
        assert down.status_code == 503, down.text
        body = down.json()
        assert "database" in body["failed"]
        assert body["checks"]["migrations"] == "skipped"
        assert body["checks"]["storage"] == "ok"
        assert _get(server, "/-/healthy").status_code == 200

    postgres.start()
    back = _wait_for_status(server, 200)
    assert back.status_code == 200, back.text
    assert back.json()["status"] == "ok"
    for _ in range(6):  # both workers reconnected
        assert _get(server, "/-/ready").status_code == 200
    assert _get(server, "/-/healthy").status_code == 200
