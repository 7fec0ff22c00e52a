"""A real OpenStack Swift for tests: an all-in-one from Debian's swift-* packages on loopback.

One proxy (tempauth, tempurl), one account, one container and one object server, each a single
process (`workers = 0`) on a free 127.0.0.1 port, one replica on a plain directory as device
(`mount_check = false`), rings built with swift-ring-builder's library, and a memcached for
tempauth's tokens. `swift` is a session fixture (started on first use: ~7 s on an idle machine,
its five Python processes' start); `swift_registry_storage` points the `registry` storage
alias at a fresh container, so tests never see each other's objects. End-to-end tests start
a Swift-backed server with `Swift.server_env()`.

    from tests.swift import swift, swift_registry_storage  # noqa: F401
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.e2e.server import free_port

ACCOUNT = "dockyard"
USER = "tester"
KEY = "dockyard-test-key"
TEMP_URL_KEY = "dockyard-temp-url-key"
CONTAINER = "dockyard"
SERVERS = ("account", "container", "object")
PROXY_PIPELINE = " ".join(
    (
        *("catch_errors", "gatekeeper", "healthcheck", "proxy-logging", "cache"),
        *("listing_formats", "tempurl", "tempauth", "slo", "dlo", "proxy-logging", "proxy-server"),
    )
)
BINARIES = ("swift-proxy-server", *(f"swift-{kind}-server" for kind in SERVERS))


def missing_binaries() -> list[str]:
    needed = (*BINARIES, "swift-ring-builder", "memcached")
    return [name for name in needed if not shutil.which(name)]


def _server_conf(kind: str, root: Path, port: int) -> str:
    return f"""[DEFAULT]
bind_ip = 127.0.0.1
bind_port = {port}
workers = 0
devices = {root / "srv"}
mount_check = false
swift_dir = {root / "etc"}

[pipeline:main]
pipeline = {kind}-server

[app:{kind}-server]
use = egg:swift#{kind}
"""


def _proxy_conf(root: Path, port: int, memcached_port: int) -> str:
    return f"""[DEFAULT]
bind_ip = 127.0.0.1
bind_port = {port}
workers = 0
swift_dir = {root / "etc"}

[pipeline:main]
pipeline = {PROXY_PIPELINE}

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:{memcached_port}

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:tempurl]
use = egg:swift#tempurl
allowed_digests = sha1 sha256 sha512

[filter:tempauth]
use = egg:swift#tempauth
user_{ACCOUNT}_{USER} = {KEY} .admin

[filter:slo]
use = egg:swift#slo

[filter:dlo]
use = egg:swift#dlo
"""


# One device per ring, one replica, 2^6 partitions: builder files and rings, as
# `swift-ring-builder X.builder create 6 1 1; ... add r1z1-127.0.0.1:PORT/d1 1; ... rebalance`.
_RING_SCRIPT = """
import json, sys
from swift.common.ring import RingBuilder
etc, ports = sys.argv[1], json.loads(sys.argv[2])
for kind, port in ports.items():
    builder = RingBuilder(6, 1, 1)
    builder.add_dev({"region": 1, "zone": 1, "ip": "127.0.0.1", "port": port,
                     "device": "d1", "weight": 1})
    builder.rebalance()
    builder.save(f"{etc}/{kind}.builder")
    builder.get_ring().save(f"{etc}/{kind}.ring.gz")
"""


class Swift:
    """The proxy, its three storage servers and a memcached, under one directory."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.port = free_port()
        self.auth_url = f"http://127.0.0.1:{self.port}/auth/v1.0"
        self.username = f"{ACCOUNT}:{USER}"
        self.processes: list[subprocess.Popen] = []
        self.logs = []

    def _spawn(self, name: str, command: list[str]) -> None:
        log = open(self.root / f"{name}.log", "wb")  # noqa: SIM115 - closed in stop()
        self.logs.append(log)
        # Without eventlet's green DNS (dnspython): a faster start, and loopback needs no DNS.
        env = {**os.environ, "EVENTLET_NO_GREENDNS": "yes"}
        self.processes.append(
            subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=self.root, env=env)
        )

    def _build_rings(self, ports: dict[str, int]) -> None:
        """The three rings in one Python process of Swift's own (swift-ring-builder's library:
        each swift-ring-builder call would cost a Python start, nine of them ~15 s on a busy
        machine)."""
        interpreter = Path(shutil.which("swift-ring-builder")).read_text().split("\n")[0][2:]
        result = subprocess.run(
            [interpreter.strip(), "-c", _RING_SCRIPT, str(self.root / "etc"), json.dumps(ports)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"building the rings failed: {result.stdout}{result.stderr}")

    def start(self, timeout: float = 60) -> Swift:
        missing = missing_binaries()
        if missing:
            raise RuntimeError(f"missing: {', '.join(missing)} (scripts/install-test-deps.sh)")
        (self.root / "etc").mkdir(parents=True, exist_ok=True)
        (self.root / "srv" / "d1").mkdir(parents=True, exist_ok=True)
        ports = {kind: free_port() for kind in SERVERS}
        memcached_port = free_port()
        self._spawn(
            "memcached",
            ["memcached", "-l", "127.0.0.1", "-p", str(memcached_port), "-U", "0", "-m", "16"]
            + (["-u", "root"] if os.geteuid() == 0 else []),
        )
        # The storage servers need no ring to start: they boot while the rings are built.
        for kind, port in ports.items():
            conf = self.root / "etc" / f"{kind}-server.conf"
            conf.write_text(_server_conf(kind, self.root, port))
            self._spawn(kind, [f"swift-{kind}-server", str(conf), "--verbose"])
        try:
            self._build_rings(ports)
        except BaseException:
            self.stop()
            raise
        conf = self.root / "etc" / "proxy-server.conf"
        conf.write_text(_proxy_conf(self.root, self.port, memcached_port))
        self._spawn("proxy", ["swift-proxy-server", str(conf), "--verbose"])

        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            for process, log in zip(self.processes, self.logs, strict=True):
                if process.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"{log.name} exited: {Path(log.name).read_text()[-2000:]}")
            try:
                connection = self.connection(retries=0)
                connection.post_account({"X-Account-Meta-Temp-URL-Key": TEMP_URL_KEY})
                connection.put_container(CONTAINER)
                return self
            except Exception as exc:  # noqa: BLE001 - not ready yet
                last_error = exc
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"Swift did not answer on {self.auth_url}: {last_error}")

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        for log in self.logs:
            log.close()
        self.processes, self.logs = [], []

    def connection(self, retries: int = 1):
        import swiftclient

        return swiftclient.Connection(
            authurl=self.auth_url,
            user=self.username,
            key=KEY,
            auth_version="1",
            retries=retries,
            timeout=10,
        )

    def object_sizes(self, container: str = CONTAINER) -> dict[str, int]:
        """Every object in the container, by name: its size."""
        _, listing = self.connection().get_container(container, full_listing=True)
        return {item["name"]: item["bytes"] for item in listing}

    def storage_options(self, container: str = CONTAINER) -> dict:
        """OPTIONS for swift.storage.SwiftStorage, as config/settings.py builds them."""
        return {
            "api_auth_url": self.auth_url,
            "api_username": self.username,
            "api_key": KEY,
            "auth_version": "1",
            "container_name": container,
            "auto_create_container": True,
            "use_temp_urls": True,
            "temp_url_key": TEMP_URL_KEY,
            "temp_url_duration": 600,
            "max_retries": 1,
            "lazy_connect": True,
        }

    def server_env(self) -> dict[str, str]:
        """Environment for a Dockyard server process storing blobs in this Swift."""
        return {
            "STORAGE_BACKEND": "swift",
            "SWIFT_AUTH_URL": self.auth_url,
            "SWIFT_USERNAME": self.username,
            "SWIFT_KEY": KEY,
            "SWIFT_AUTH_VERSION": "1",
            "SWIFT_CONTAINER_NAME": CONTAINER,
            "SWIFT_TEMP_URL_KEY": TEMP_URL_KEY,
        }


@pytest.fixture(scope="session")
def swift(tmp_path_factory):
    missing = missing_binaries()
    if missing:
        pytest.skip(f"Swift all-in-one needs {', '.join(missing)} (scripts/install-test-deps.sh)")
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    server = Swift(tmp_path_factory.mktemp("swift")).start()
    yield server
    server.stop()


@pytest.fixture
def swift_registry_storage(swift, settings):
    """Point the `registry` storage alias at Swift, in a container of its own."""
    from django.core.files.storage import storages

    stores = dict(settings.STORAGES)
    stores["registry"] = {
        "BACKEND": "swift.storage.SwiftStorage",
        "OPTIONS": swift.storage_options(container=f"test-{uuid.uuid4().hex}"),
    }
    settings.STORAGES = stores
    storages._storages.pop("registry", None)
    yield swift
    storages._storages.pop("registry", None)
