"""The reference registry (Debian's docker-registry, CNCF Distribution 2.8) as a real process.

Used by bench/run.py and to cross-check the end-to-end harness: filesystem storage in its own
directory, a free loopback port, no authentication, deletes enabled.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

from tests.e2e.server import free_port, wait_for_http
from tests.processes import stop_group

BINARY = "/usr/bin/docker-registry"

CONFIG = """\
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:{port}
"""


class ReferenceRegistry:
    """`docker-registry serve config.yml` on 127.0.0.1:<free port>, data under `directory`."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.log_path = self.directory / "registry.log"

    @staticmethod
    def available() -> bool:
        return shutil.which(BINARY) is not None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def config_text(self) -> str:
        """The config.yml: filesystem storage under the directory (S3 in bench/run.py)."""
        root = self.directory / "storage"
        root.mkdir(parents=True, exist_ok=True)
        return CONFIG.format(root=root, port=self.port)

    def environment(self) -> dict[str, str]:
        return {**os.environ, "OTEL_TRACES_EXPORTER": "none"}

    def start(self) -> ReferenceRegistry:
        self.directory.mkdir(parents=True, exist_ok=True)
        config = self.directory / "config.yml"
        config.write_text(self.config_text())
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [BINARY, "serve", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=self.environment(),
        )
        wait_for_http(self.url + "/v2/", timeout=30, process=self.process)
        return self

    def stop(self) -> None:
        stop_group(self.process, signal.SIGTERM, timeout=15)
