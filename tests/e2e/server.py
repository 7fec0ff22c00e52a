"""Start Dockyard as real processes (scripts/run.sh: gunicorn + Celery) for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port(host: str = "127.0.0.1") -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, timeout: float = 90, process: subprocess.Popen | None = None) -> None:
    # Self-signed test certificates: waiting only needs the server to answer, not to be trusted.
    context = ssl._create_unverified_context() if url.startswith("https:") else None  # noqa: S323
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before {url} answered")
        try:
            urllib.request.urlopen(url, timeout=2, context=context)  # noqa: S310 - loopback only
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


def throwaway_database_url() -> str:
    """A fresh database beside the test run's: PostgreSQL when the run uses it, else SQLite."""
    base = os.environ.get("DATABASE_URL", "")
    if base.startswith("postgres"):
        import psycopg2

        name = f"dockyard_e2e_{uuid.uuid4().hex[:10]}"
        root = base.rsplit("/", 1)[0]
        conn = psycopg2.connect(root + "/postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        conn.close()
        return f"{root}/{name}"
    return ""


def drop_throwaway_database(url: str) -> None:
    """Drop a database throwaway_database_url() created (after its servers stopped)."""
    if not url.startswith("postgres"):
        return
    root, name = url.rsplit("/", 1)
    if not name.startswith("dockyard_e2e_"):
        return
    import psycopg2

    conn = psycopg2.connect(root + "/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


class Server:
    """One Dockyard instance: its own port, DATA_DIR and database."""

    def __init__(self, data_dir: Path, *, host: str = "127.0.0.1", env: dict | None = None):
        self.host = host
        self.port = free_port(host)
        self.data_dir = data_dir
        self.env = {
            **os.environ,
            "HOST": host,
            "PORT": str(self.port),
            "DATA_DIR": str(data_dir),
            "WEB_WORKERS": "2",
            "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
            "MIRROR_ALLOW_PRIVATE_UPSTREAMS": "true",
            "ACCESS_LOG": "0",
            **(env or {}),
        }
        for key in ("DJANGO_SETTINGS_MODULE", "PYTEST_CURRENT_TEST"):
            self.env.pop(key, None)
        self.process: subprocess.Popen | None = None
        self.log_path = data_dir / "server.log"

    @property
    def address(self) -> str:
        """host:port as registry clients write it."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def url(self) -> str:
        scheme = "https" if self.env.get("TLS_CERT") else "http"
        return f"{scheme}://{self.address}"

    def start(self, command: list[str] | None = None) -> Server:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            command or [str(ROOT / "scripts" / "run.sh")],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for_http(self.url + "/v2/", process=self.process)
        return self

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        os.killpg(self.process.pid, sig)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            return self.process.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def manage(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed: {result.stderr}")
        return result.stdout

    def python(self, code: str) -> str:
        """Run Django code in the server's environment (its database) and return stdout."""
        return self.manage("shell", "-c", code)

    def create_user(self, username: str, password: str, *, superuser: bool = False) -> None:
        """Create the user, or reset its password and flags: session fixtures and several test
        modules may ask for the same user on the shared server."""
        self.python(
            "from django.contrib.auth import get_user_model\n"
            f"u = get_user_model().objects.filter(username={username!r}).first()\n"
            f"u = u or get_user_model().objects.create_user({username!r}, password={password!r})\n"
            f"if not u.check_password({password!r}): u.set_password({password!r})\n"
            f"u.is_staff = u.is_superuser = {superuser!r}\n"
            "u.save()\n"
        )
