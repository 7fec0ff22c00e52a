"""Upstream registries for the mirror tests: Debian's reference registry (CNCF Distribution) on a
loopback port, optionally behind htpasswd Basic auth, filled through its raw OCI push API.

Its access log (stdout) counts what the mirror asked it for.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.e2e.images import TestImage, sha256_file
from tests.e2e.server import free_port
from tests.processes import stop_group

REGISTRY_BIN = "/usr/bin/docker-registry"

CONFIG = """\
version: 0.1
log:
  level: warn
  accesslog:
    disabled: false
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
{auth}"""

HTPASSWD_AUTH = """\
auth:
  htpasswd:
    realm: upstream
    path: {path}
"""


class ReferenceRegistry:
    """`docker-registry serve` with filesystem storage in `root`; `start()` / `stop()`."""

    def __init__(self, root: Path, *, credentials: tuple[str, str] | None = None):
        self.root = Path(root)
        self.port = free_port()
        self.credentials = credentials
        self.process: subprocess.Popen | None = None
        self.log_path = self.root / "registry.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ReferenceRegistry:
        if not os.path.exists(REGISTRY_BIN):
            pytest.skip("docker-registry is not installed (scripts/install-test-deps.sh)")
        self.root.mkdir(parents=True, exist_ok=True)
        auth = ""
        if self.credentials is not None:
            if shutil.which("htpasswd") is None:
                pytest.skip("htpasswd (apache2-utils) is not installed")
            line = subprocess.run(
                ["htpasswd", "-Bbn", *self.credentials], capture_output=True, text=True, check=True
            ).stdout.strip()
            path = self.root / "htpasswd"
            path.write_text(line + "\n")
            auth = HTPASSWD_AUTH.format(path=path)
        config = self.root / "config.yml"
        config.write_text(CONFIG.format(root=self.root / "data", port=self.port, auth=auth))
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [REGISTRY_BIN, "serve", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"docker-registry exited:\n{self.log()}")
            try:
                requests.get(self.url + "/v2/", timeout=1)
                return self
            except requests.ConnectionError:
                time.sleep(0.1)
        raise TimeoutError(f"docker-registry did not answer:\n{self.log()}")

    def stop(self) -> None:
        stop_group(self.process, signal.SIGTERM, timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def count(self, method: str, path_fragment: str) -> int:
        """How many `<method> …<path_fragment>…` requests the access log shows."""
        return sum(
            1
            for line in self.log().splitlines()
            if f'"{method} ' in line and path_fragment in line and '" 200 ' in line
        )

    # Filling it -------------------------------------------------------------------------------

    @property
    def _auth(self):
        return self.credentials

    def blob_push(self, name: str, digest: str, body) -> None:
        """Monolithic upload: POST then PUT ?digest= with the body (bytes or an open file)."""
        head = requests.head(f"{self.url}/v2/{name}/blobs/{digest}", auth=self._auth, timeout=30)
        if head.status_code == 200:
            return
        start = requests.post(f"{self.url}/v2/{name}/blobs/uploads/", auth=self._auth, timeout=30)
        assert start.status_code == 202, start.text
        location = start.headers["Location"]
        if location.startswith("/"):
            location = self.url + location
        separator = "&" if "?" in location else "?"
        done = requests.put(
            f"{location}{separator}digest={digest}",
            data=body,
            headers={"Content-Type": "application/octet-stream"},
            auth=self._auth,
            timeout=120,
        )
        assert done.status_code == 201, done.text

    def manifest_push(self, name: str, reference: str, body: bytes, media_type: str) -> str:
        response = requests.put(
            f"{self.url}/v2/{name}/manifests/{reference}",
            data=body,
            headers={"Content-Type": media_type},
            auth=self._auth,
            timeout=30,
        )
        assert response.status_code == 201, response.text
        return response.headers["Docker-Content-Digest"]

    def image_push(self, name: str, tag: str, image: TestImage) -> str:
        """Push an image's layers, config and OCI manifest; return the manifest digest."""
        for layer in image.layers:
            with open(layer.path, "rb") as body:
                self.blob_push(name, sha256_file(layer.path), body)
        self.blob_push(name, image.config_digest, image.config_bytes())
        return self.manifest_push(
            name, tag, image.oci_manifest_bytes(), "application/vnd.oci.image.manifest.v1+json"
        )
