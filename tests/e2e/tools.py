"""podman and skopeo as end-to-end clients: plain HTTP to loopback, private storage, no config.

Both run with their own storage root and a throwaway registries/policy configuration so that the
machine's /etc/containers settings (or another test's state) never leak in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

POLICY = '{"default":[{"type":"insecureAcceptAnything"}]}'


class ToolError(RuntimeError):
    def __init__(self, args: list[str], result: subprocess.CompletedProcess):
        self.result = result
        super().__init__(
            f"{' '.join(args)} exited {result.returncode}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}"
        )


class _Tool:
    binary = ""

    def __init__(self, root: Path):
        if shutil.which(self.binary) is None:
            pytest.skip(f"{self.binary} is not installed (scripts/install-test-deps.sh)")
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.policy = self.root / "policy.json"
        self.policy.write_text(POLICY)
        self.registries = self.root / "registries.conf"
        self.registries.write_text(
            'unqualified-search-registries = []\nshort-name-mode = "disabled"\n'
        )
        self.env = {
            **os.environ,
            "CONTAINERS_REGISTRIES_CONF": str(self.registries),
            "REGISTRY_AUTH_FILE": str(self.root / "auth.json"),
            "XDG_RUNTIME_DIR": str(self.root / "run"),
            "TMPDIR": str(self.root / "tmp"),
        }
        (self.root / "auth.json").write_text('{"auths":{}}')
        (self.root / "run").mkdir(exist_ok=True)
        (self.root / "tmp").mkdir(exist_ok=True)

    def global_args(self) -> list[str]:
        return []

    def __call__(self, *args: str, check: bool = True, timeout: int = 300):
        command = [self.binary, *self.global_args(), *args]
        result = subprocess.run(
            command, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if check and result.returncode != 0:
            raise ToolError(command, result)
        return result


class Skopeo(_Tool):
    binary = "skopeo"

    def global_args(self) -> list[str]:
        return ["--policy", str(self.policy), "--registries-conf", str(self.registries)]

    def push(self, source: str, target: str, creds: str) -> str:
        """Copy `source` to `target` on a plain-HTTP registry as `creds`; return its digest."""
        digest_file = self.root / "tmp" / "digest"
        self(
            "copy",
            "--dest-tls-verify=false",
            "--dest-creds",
            creds,
            "--digestfile",
            str(digest_file),
            source,
            target,
        )
        return digest_file.read_text().strip()


class Podman(_Tool):
    """podman with vfs storage under its own --root/--runroot (no daemon, nothing shared)."""

    binary = "podman"

    def __init__(self, root: Path):
        super().__init__(root)
        storage = self.root / "storage.conf"
        storage.write_text(
            '[storage]\ndriver = "vfs"\n'
            f'graphroot = "{self.root / "graph"}"\nrunroot = "{self.root / "runroot"}"\n'
        )
        self.env["CONTAINERS_STORAGE_CONF"] = str(storage)
        containers = self.root / "containers.conf"
        containers.write_text(
            '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n'
            f'events_logfile_path = "{self.root / "events.log"}"\n'
        )
        self.env["CONTAINERS_CONF"] = str(containers)

    def global_args(self) -> list[str]:
        return [
            "--root",
            str(self.root / "graph"),
            "--runroot",
            str(self.root / "runroot"),
            "--storage-driver",
            "vfs",
        ]


def registry_token(
    base_url: str, scope: str = "", auth: tuple[str, str] | None = None
) -> str | None:
    """Follow the /v2/ Bearer challenge as docker does and return a token (None: no auth needed)."""
    import re

    import requests

    challenge = requests.get(base_url + "/v2/", auth=None, timeout=30)
    header = challenge.headers.get("WWW-Authenticate", "")
    if challenge.status_code != 401 or not header.lower().startswith("bearer"):
        return None
    params = dict(re.findall(r'(\w+)="([^"]*)"', header))
    query = {"service": params.get("service", "")}
    if scope:
        query["scope"] = scope
    answer = requests.get(params["realm"], params=query, auth=auth, timeout=30)
    answer.raise_for_status()
    body = answer.json()
    return body.get("token") or body["access_token"]
