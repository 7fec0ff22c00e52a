"""A private docker engine for end-to-end tests: its own data-root, exec-root, pidfile and socket.

Use the session fixture `dockerd` (registered in tests/e2e/conftest.py):

    def test_login(dockerd, server, tmp_path):
        docker = dockerd.client(tmp_path / "docker-config")   # own DOCKER_CONFIG per test
        docker.cli("login", server.address, "-u", "alice", "--password-stdin", input="secret")

`dockerd.cli(*args, input=None, check=True)` runs the docker CLI against the daemon and returns
the CompletedProcess (text mode); with check=True a non-zero exit raises DockerError carrying
stdout and stderr. 127.0.0.0/8 registries are insecure (plain HTTP) by default for docker.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.e2e.tools import ToolError

DAEMON_FLAGS = [
    "--storage-driver=vfs",
    "--iptables=false",
    "--ip6tables=false",
    "--bridge=none",
    "--ip-masq=false",
    "--exec-opt",
    "native.cgroupdriver=cgroupfs",
]


class DockerError(ToolError):
    """A docker CLI command failed; the message holds its output."""


@dataclass
class DockerClient:
    """The docker CLI bound to one daemon socket and one DOCKER_CONFIG directory."""

    host: str
    config_dir: Path
    env: dict[str, str] = field(default_factory=dict)

    def cli(
        self, *args: str, input: str | bytes | None = None, check: bool = True, timeout: int = 300
    ) -> subprocess.CompletedProcess:
        """Run `docker <args>` and return the CompletedProcess (text unless `input` is bytes)."""
        self.config_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "DOCKER_HOST": self.host,
            "DOCKER_CONFIG": str(self.config_dir),
            "DOCKER_CLI_HINTS": "false",
            **self.env,
        }
        for key in ("DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_CONTEXT"):
            env.pop(key, None)
        result = subprocess.run(
            ["docker", *args],
            input=input,
            env=env,
            capture_output=True,
            text=not isinstance(input, bytes),
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise DockerError(["docker", *args], result)
        return result

    def client(self, config_dir: Path) -> DockerClient:
        """Return the same daemon's CLI with another DOCKER_CONFIG (credentials are per config)."""
        return DockerClient(host=self.host, config_dir=Path(config_dir), env=dict(self.env))


class Dockerd(DockerClient):
    """A dockerd process started by `start()` and stopped by `stop()`."""

    def __init__(self, root: Path, extra_flags: list[str] | None = None):
        # unix socket paths are limited to ~107 bytes: keep the socket in a short directory.
        self.root = Path(root)
        self.short_dir = Path(tempfile.mkdtemp(prefix="dkd-", dir="/tmp"))  # noqa: S108
        self.socket = self.short_dir / "docker.sock"
        self.pidfile = self.short_dir / "docker.pid"
        self.log_path = self.root / "dockerd.log"
        self.extra_flags = extra_flags or []
        self.process: subprocess.Popen | None = None
        super().__init__(host=f"unix://{self.socket}", config_dir=self.root / "config")

    def start(self, timeout: float = 90) -> Dockerd:
        if shutil.which("dockerd") is None:
            pytest.skip("dockerd is not installed (scripts/install-test-deps.sh installs it)")
        self.root.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [
                "dockerd",
                *DAEMON_FLAGS,
                f"--data-root={self.root / 'data'}",
                f"--exec-root={self.short_dir / 'exec'}",
                f"--pidfile={self.pidfile}",
                "-H",
                self.host,
                *self.extra_flags,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dockerd exited early:\n{self.log()[-4000:]}")
            if self.socket.exists() and self.cli("info", check=False, timeout=30).returncode == 0:
                return self
            time.sleep(0.5)
        self.stop()
        raise TimeoutError(f"dockerd did not answer within {timeout}s:\n{self.log()[-4000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        shutil.rmtree(self.short_dir, ignore_errors=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture(scope="session")
def dockerd(tmp_path_factory) -> Dockerd:
    """One docker engine for the whole run; `.client(dir)` gives a per-test DOCKER_CONFIG."""
    daemon = Dockerd(tmp_path_factory.mktemp("dockerd")).start()
    yield daemon
    daemon.stop()
