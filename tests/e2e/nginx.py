"""nginx with the shipped deploy/nginx/dockyard.conf, in front of a test server.

The shipped file is used as it is, except for what differs between a compose deployment and a
test: the ports it listens on, the upstream's address and the certificate's directory (each
literal must occur in the file, so the test and the file cannot drift apart). Its own prefix,
pid file, logs and temporary directories; TLS from `manage.py make_certs`.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.server import ROOT, free_port
from tests.processes import stop_group

SHIPPED = ROOT / "deploy" / "nginx" / "dockyard.conf"

# What the test changes in the shipped file: literal -> how many times it must be there.
UPSTREAM = "server web:5000;"
LISTEN_TLS = "listen 443 ssl;"
LISTEN_HTTP = "listen 80;"
TLS_DIR = "/etc/nginx/tls/"
LITERALS = {UPSTREAM: 1, LISTEN_TLS: 1, LISTEN_HTTP: 1, TLS_DIR: 2}

MAIN_CONFIG = """\
daemon off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {root}/access.log;
    client_body_temp_path {root}/temp/client_body;
    proxy_temp_path {root}/temp/proxy;
    fastcgi_temp_path {root}/temp/fastcgi;
    uwsgi_temp_path {root}/temp/uwsgi;
    scgi_temp_path {root}/temp/scgi;
    include {root}/dockyard.conf;
}}
"""


def shipped_config(*, upstream: str, tls_port: int, http_port: int, tls_dir: Path) -> str:
    text = SHIPPED.read_text()
    for literal, count in LITERALS.items():
        assert text.count(literal) == count, f"{SHIPPED} changed: {literal!r} x{count} expected"
    return (
        text.replace(UPSTREAM, f"server {upstream};")
        .replace(LISTEN_TLS, f"listen 127.0.0.1:{tls_port} ssl;")
        .replace(LISTEN_HTTP, f"listen 127.0.0.1:{http_port};")
        .replace(TLS_DIR, f"{tls_dir}/")
    )


class Nginx:
    def __init__(self, upstream: str, certificate_dir: Path):
        if shutil.which("nginx") is None:
            pytest.skip("nginx is not installed (scripts/install-test-deps.sh installs it)")
        # Short and private; nginx's workers never write below it (nothing is buffered).
        self.root = Path(tempfile.mkdtemp(prefix="nginx-", dir="/tmp"))  # noqa: S108
        (self.root / "temp").mkdir()
        self.tls_port = free_port()
        self.http_port = free_port()
        self.upstream = upstream
        self.certificate_dir = certificate_dir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.tls_port}"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.tls_port}"

    def start(self, timeout: float = 30) -> Nginx:
        (self.root / "dockyard.conf").write_text(
            shipped_config(
                upstream=self.upstream,
                tls_port=self.tls_port,
                http_port=self.http_port,
                tls_dir=self.certificate_dir,
            )
        )
        (self.root / "nginx.conf").write_text(MAIN_CONFIG.format(root=self.root))
        command = ["nginx", "-p", f"{self.root}/", "-e", str(self.root / "error.log")]
        command += ["-c", str(self.root / "nginx.conf")]
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, checked.stderr
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=open(self.root / "stderr.log", "wb"),  # noqa: SIM115 - nginx keeps it
            start_new_session=True,
        )
        health = f"http://127.0.0.1:{self.http_port}/-/proxy-healthy"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited:\n{self.log()}")
            try:
                urllib.request.urlopen(health, timeout=2)  # noqa: S310 - loopback only
                return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"nginx did not answer within {timeout}s:\n{self.log()}")

    def stop(self) -> None:
        stop_group(self.process, signal.SIGQUIT, timeout=15)  # graceful: finish open requests
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        path = self.root / "error.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""
