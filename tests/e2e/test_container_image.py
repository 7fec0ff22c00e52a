"""The container image (Dockerfile), built as `make image` builds it, on a Debian base made here.

scripts/build-image.sh against the session's docker engine: debootstrap of a minimal Debian
(the tarball cached in DOCKYARD_CACHE_DIR, default ~/.cache/dockyard, so only a new machine pays
for it), `docker import`, then `docker build --network none` from wheels fetched by this
machine's pip. The image then runs as the embedded default (a fresh bind mount for /data, its
HEALTHCHECK, a first administrator by `docker exec`, docker login/push/pull through it) and as
`dockyard migrate` + `dockyard web` + `dockyard worker` on PostgreSQL and Redis. The engine has
no bridge network: containers share the host's (--network host) and listen on a loopback port.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.e2e.server import free_port

ROOT = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT = 1500  # seconds; a cold machine debootstraps (about a minute) first
PASSWORD = "container-horse-battery"


def _cache_has_base() -> bool:
    cache = Path(
        os.environ.get("DOCKYARD_CACHE_DIR")
        or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dockyard"
    )
    return any(cache.glob("base-*.tar"))


@pytest.fixture(scope="module")
def image(dockerd, tmp_path_factory):
    """dockyard-e2e-<random>:latest built by scripts/build-image.sh; removed afterwards (the
    base image stays in the engine and its tarball in the cache)."""
    if shutil.which("debootstrap") is None and not _cache_has_base():
        pytest.skip("debootstrap is not installed (scripts/install-test-deps.sh installs it)")
    tag = f"dockyard-e2e-{uuid.uuid4().hex[:8]}:latest"
    env = {
        **os.environ,
        "DOCKER_HOST": dockerd.host,
        "DOCKER_CONFIG": str(tmp_path_factory.mktemp("docker-build")),
        "DOCKER_CLI_HINTS": "false",
        "DOCKER_BUILD_QUIET": "1",
    }
    started = time.monotonic()
    result = subprocess.run(
        ["./scripts/build-image.sh", tag],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    print(f"image {tag} built in {time.monotonic() - started:.0f} s: {result.stdout[-300:]}")
    yield tag
    dockerd.cli("rmi", "-f", tag, check=False)
    dockerd.cli("image", "prune", "-f", check=False)


class Container:
    """One `docker run -d` of the image, removed (with its logs printed on failure) at exit."""

    def __init__(self, dockerd, image: str, *args: str, env: dict, data: Path):
        self.dockerd = dockerd
        self.name = f"dockyard-e2e-{uuid.uuid4().hex[:8]}"
        flags = ["--name", self.name, "--network", "host", "-v", f"{data}:/data"]
        for key, value in env.items():
            flags += ["-e", f"{key}={value}"]
        # The image's own HEALTHCHECK command, probed every 2 s instead of every 30 s.
        flags += ["--health-interval", "2s", "--health-start-period", "120s"]
        dockerd.cli("run", "-d", *flags, image, *args)

    def inspect(self) -> dict:
        return json.loads(self.dockerd.cli("inspect", self.name).stdout)[0]

    def logs(self) -> str:
        result = self.dockerd.cli("logs", self.name, check=False)
        return result.stdout + result.stderr

    def wait_healthy(self, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.inspect()["State"]
            if not state["Running"]:
                raise AssertionError(f"container exited ({state['ExitCode']}):\n{self.logs()}")
            if state.get("Health", {}).get("Status") == "healthy":
                return
            time.sleep(1)
        raise AssertionError(f"not healthy within {timeout:.0f} s:\n{self.logs()[-4000:]}")

    def exec(self, *args: str, env: dict | None = None) -> str:
        flags = [item for key, value in (env or {}).items() for item in ("-e", f"{key}={value}")]
        return self.dockerd.cli("exec", *flags, self.name, *args).stdout

    def stop(self) -> tuple[int, float]:
        """docker stop (SIGTERM, then SIGKILL after 20 s): (exit code, seconds taken)."""
        started = time.monotonic()
        self.dockerd.cli("stop", "-t", "20", self.name, timeout=60)
        return self.inspect()["State"]["ExitCode"], time.monotonic() - started

    def remove(self) -> None:
        self.dockerd.cli("rm", "-f", "-v", self.name, check=False)


def _get_json(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def _process_uids(container: Container) -> dict[str, int]:
    """Every process in the container but the probe itself: {command line: uid}."""
    script = (
        "import os, json\n"
        "out = {}\n"
        "for pid in filter(str.isdigit, os.listdir('/proc')):\n"
        "    if int(pid) == os.getpid(): continue\n"
        "    try:\n"
        "        cmd = open(f'/proc/{pid}/cmdline', 'rb').read().replace(b'\\0', b' ').decode()\n"
        "        uid = os.stat(f'/proc/{pid}').st_uid\n"
        "    except OSError: continue\n"
        "    out[f'{pid} {cmd.strip()}'] = uid\n"
        "print(json.dumps(out))\n"
    )
    return json.loads(container.exec("python3", "-c", script))


def test_the_image_is_the_embedded_default_and_serves_docker(dockerd, image, app_archive, tmp_path):
    data = tmp_path / "storage-dockyard"  # docker creates it, root's, as for a new host path
    port = free_port()
    address = f"127.0.0.1:{port}"
    container = Container(dockerd, image, env={"PORT": str(port), "HOST": "127.0.0.1"}, data=data)
    try:
        container.wait_healthy()
        status, body = _get_json(f"http://{address}/-/ready")
        assert status == 200 and body["status"] == "ok", body
        status, _ = _get_json(f"http://{address}/-/healthy")
        assert status == 200

        # The first administrator, as the README tells: docker exec ... createsuperuser.
        container.exec(
            "dockyard",
            "manage",
            "createsuperuser",
            "--noinput",
            "--username",
            "alice",
            "--email",
            "alice@example.com",
            env={"DJANGO_SUPERUSER_PASSWORD": PASSWORD},
        )
        client = dockerd.client(tmp_path / "docker-config")
        login = client.cli("login", address, "-u", "alice", "--password-stdin", input=PASSWORD)
        assert "Login Succeeded" in login.stdout
        archive, loaded = app_archive
        client.cli("load", "-i", str(archive))
        reference = f"{address}/alice/app:1"
        client.cli("tag", loaded, reference)
        pushed = client.cli("push", reference).stdout
        assert "1: digest: sha256:" in pushed, pushed
        client.cli("rmi", reference)
        client.cli("pull", reference)
        run = client.cli("run", "--rm", "--network", "none", reference)
        assert "hello from dockyard e2e" in run.stdout

        # Every storage backend's libraries load in the image (python-magic needs libmagic1).
        modules = (
            "import magic, swift.storage, storages.backends.azure_storage, storages.backends.s3"
        )
        container.exec("dockyard", "manage", "shell", "-c", modules)

        # Non-root: every server process is the dockyard account's (uid 1000), and so is what
        # it wrote under /data: the keys it generated, the SQLite database, the blobs.
        uids = _process_uids(container)
        assert any("gunicorn" in cmd for cmd in uids) and any("celery" in cmd for cmd in uids)
        assert set(uids.values()) == {1000}, uids
        for name in ("secret_key", "token_signing_key.pem", "db.sqlite3", "storage"):
            assert (data / name).stat().st_uid == 1000, name
        assert (data / "storage" / "blobs" / "sha256").is_dir()

        # SIGTERM (docker stop) stops gunicorn and the worker cleanly, well before the SIGKILL.
        code, seconds = container.stop()
        assert code == 0, container.logs()[-3000:]
        assert seconds < 15
    finally:
        client_logout = dockerd.client(tmp_path / "docker-config")
        client_logout.cli("rmi", "-f", f"{address}/alice/app:1", check=False)
        container.remove()


@pytest.fixture
def postgres_url():
    import psycopg2

    name = f"dockyard_e2e_{uuid.uuid4().hex[:10]}"
    root = "postgres://postgres@127.0.0.1:5432"
    try:
        conn = psycopg2.connect(root + "/postgres", connect_timeout=5)
    except psycopg2.OperationalError:
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    yield f"{root}/{name}"
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


def test_migrate_then_web_and_worker_on_postgresql(dockerd, image, postgres_url, tmp_path):
    data = tmp_path / "data"  # shared by web and worker: the keys generated on first start
    port = free_port()
    env = {
        "DATABASE_URL": postgres_url,
        "REDIS_URL": "redis://127.0.0.1:6379/7",
        "STORAGE_BACKEND": "filesystem",
        "PORT": str(port),
        "HOST": "127.0.0.1",
    }
    migrate = dockerd.cli(
        "run", "--rm", "--network", "host", "-v", f"{data}:/data",
        *[item for key, value in env.items() for item in ("-e", f"{key}={value}")],
        image, "migrate", timeout=300,
    )  # fmt: skip
    assert "Applying hub.0001_initial... OK" in migrate.stdout, migrate.stdout[-2000:]

    web = Container(dockerd, image, "web", env=env, data=data)
    worker = Container(dockerd, image, "worker", env=env, data=data)
    try:
        web.wait_healthy()
        status, body = _get_json(f"http://127.0.0.1:{port}/-/ready")
        assert status == 200, body
        assert body["checks"]["database"] == "ok" and body["checks"]["broker"] == "ok"
        # A web container runs gunicorn only: no worker, no migrations on start.
        commands = " ".join(_process_uids(web))
        assert "gunicorn" in commands and "celery" not in commands
        worker.wait_healthy()  # a worker is healthy while its process lives
        assert "celery" in " ".join(_process_uids(worker))
        for container in (web, worker):
            code, seconds = container.stop()
            assert code == 0, container.logs()[-3000:]
            assert seconds < 15
    finally:
        web.remove()
        worker.remove()
