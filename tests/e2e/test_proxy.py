"""The shipped nginx configuration (deploy/nginx/dockyard.conf) in front of a real server.

nginx terminates TLS (a `make_certs` certificate) and hands requests to a Dockyard server run
with BEHIND_PROXY=true, as deploy/compose.yaml does. Through it: docker pushes and pulls, a
verifying client (skopeo with the CA) pulls the same digest, answers carry https realms, and a
slow chunked PATCH reaches Dockyard while the client is still sending it (nothing buffered).
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import ssl
import time
import urllib.parse

import pytest
import requests

from tests.conftest import PASSWORD
from tests.e2e.conftest import server_env
from tests.e2e.images import MiB, build_image
from tests.e2e.nginx import Nginx
from tests.e2e.server import Server, drop_throwaway_database
from tests.e2e.tools import Skopeo


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    env = server_env(tmp_path_factory, BEHIND_PROXY="true")
    server = Server(tmp_path_factory.mktemp("dockyard-proxied"), env=env).start()
    try:
        server.create_user("alice", PASSWORD)
        yield server
    finally:
        server.stop()
        drop_throwaway_database(env["DATABASE_URL"])


@pytest.fixture(scope="module")
def certificate_dir(backend, tmp_path_factory):
    directory = tmp_path_factory.mktemp("proxy-tls")
    backend.manage("make_certs", "--host", "127.0.0.1", "--out", str(directory))
    return directory


@pytest.fixture(scope="module")
def proxy(backend, certificate_dir):
    nginx = Nginx(f"127.0.0.1:{backend.port}", certificate_dir).start()
    yield nginx
    nginx.stop()


@pytest.fixture(scope="module")
def https(certificate_dir) -> requests.Session:
    """HTTPS that verifies the proxy's certificate."""
    session = requests.Session()
    # Not the machine's CA bundle (REQUESTS_CA_BUNDLE would win over `verify`), nor a proxy.
    session.trust_env = False
    session.verify = str(certificate_dir / "cert.pem")
    return session


def _token(https: requests.Session, proxy: Nginx, scope: str) -> str:
    challenge = https.get(f"{proxy.url}/v2/", timeout=30)
    params = dict(re.findall(r'(\w+)="([^"]*)"', challenge.headers["WWW-Authenticate"]))
    answer = https.get(
        params["realm"],
        params={"service": params["service"], "scope": scope},
        auth=("alice", PASSWORD),
        timeout=30,
    )
    answer.raise_for_status()
    return answer.json()["token"]


def test_answers_through_the_proxy_say_https(proxy, https):
    challenge = https.get(f"{proxy.url}/v2/", timeout=30)
    assert challenge.status_code == 401
    # The realm keeps the scheme and the port the client used (X-Forwarded-Proto, Host).
    assert (
        f'realm="https://127.0.0.1:{proxy.tls_port}/auth/token"'
        in (challenge.headers["WWW-Authenticate"])
    )
    assert "max-age=" in challenge.headers.get("Strict-Transport-Security", "")

    token = _token(https, proxy, "repository:alice/proxied:pull,push")
    started = https.post(
        f"{proxy.url}/v2/alice/proxied/blobs/uploads/",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert started.status_code == 202, started.text
    location = urllib.parse.urljoin(proxy.url + "/", started.headers["Location"])
    assert location.startswith(f"{proxy.url}/v2/alice/proxied/blobs/uploads/")

    # Plain HTTP is only a redirect to HTTPS.
    plain = requests.get(
        f"http://127.0.0.1:{proxy.http_port}/v2/", allow_redirects=False, timeout=30
    )
    assert plain.status_code == 301
    assert plain.headers["Location"].startswith("https://127.0.0.1")


def test_docker_push_and_a_verified_pull_through_the_proxy(
    proxy, certificate_dir, dockerd, tmp_path
):
    image = build_image(tmp_path / "layers", message="through nginx", sizes=(8 * MiB,), seed=71)
    archive = image.write_docker_archive(tmp_path / "image.tar", "dockyard-test/proxied:latest")
    docker = dockerd.client(tmp_path / "docker")
    # Loopback registries are "insecure" to docker: TLS without checking the certificate.
    login = docker.cli("login", proxy.address, "-u", "alice", "--password-stdin", input=PASSWORD)
    assert "Login Succeeded" in login.stdout
    docker.cli("load", "-i", str(archive))
    reference = f"{proxy.address}/alice/proxied:1"
    docker.cli("tag", "dockyard-test/proxied:latest", reference)
    pushed = docker.cli("push", reference).stdout
    digest = re.search(r"1: digest: (sha256:[0-9a-f]{64})", pushed).group(1)
    docker.cli("rmi", reference, "dockyard-test/proxied:latest")
    docker.cli("pull", reference)
    inspected = docker.cli("image", "inspect", "--format", "{{.Id}}", reference).stdout.strip()
    assert inspected == image.image_id
    docker.cli("rmi", reference)

    # skopeo checks the certificate against the CA (certs.d layout: ca.crt).
    trust = tmp_path / "certs.d"
    trust.mkdir()
    (trust / "ca.crt").write_bytes((certificate_dir / "cert.pem").read_bytes())
    skopeo = Skopeo(tmp_path / "skopeo")
    copied = skopeo(
        "copy",
        "--src-cert-dir",
        str(trust),
        "--src-creds",
        f"alice:{PASSWORD}",
        "--digestfile",
        str(tmp_path / "digest"),
        f"docker://{reference}",
        f"oci:{tmp_path / 'pulled'}:1",
    )
    assert copied.returncode == 0
    inspect = skopeo(
        "inspect", "--cert-dir", str(trust), "--creds", f"alice:{PASSWORD}", f"docker://{reference}"
    )
    assert f'"Digest": "{digest}"' in inspect.stdout


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def _read_response(stream: ssl.SSLSocket) -> tuple[int, dict[str, str]]:
    raw = b""
    while b"\r\n\r\n" not in raw:
        data = stream.recv(65536)
        if not data:
            break
        raw += data
    head = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(head[0].split()[1]), headers


def test_a_slow_chunked_upload_reaches_dockyard_while_it_is_sent(
    proxy, backend, https, certificate_dir
):
    """With buffering, nginx would hold the body until its last byte: Dockyard's staged file
    could not grow while the client still sends. It must, for a body far over nginx's default
    1 MiB limit (client_max_body_size 0)."""
    token = _token(https, proxy, "repository:alice/streamed:pull,push")
    auth = {"Authorization": f"Bearer {token}"}
    started = https.post(f"{proxy.url}/v2/alice/streamed/blobs/uploads/", headers=auth, timeout=30)
    assert started.status_code == 202
    path = urllib.parse.urlsplit(started.headers["Location"])
    upload_path = path.path + (f"?{path.query}" if path.query else "")
    upload_id = started.headers["Docker-Upload-UUID"]
    staged_dir = backend.data_dir / "uploads"

    first, rest = os.urandom(2 * MiB), os.urandom(14 * MiB)
    context = ssl.create_default_context(cafile=str(certificate_dir / "cert.pem"))
    raw = socket.create_connection(("127.0.0.1", proxy.tls_port), timeout=60)
    with context.wrap_socket(raw, server_hostname="127.0.0.1") as stream:
        stream.sendall(
            (
                f"PATCH {upload_path} HTTP/1.1\r\n"
                f"Host: {proxy.address}\r\n"
                f"Authorization: Bearer {token}\r\n"
                "Content-Type: application/octet-stream\r\n"
                "Transfer-Encoding: chunked\r\n\r\n"
            ).encode()
        )
        for offset in range(0, len(first), 256 * 1024):
            stream.sendall(_chunk(first[offset : offset + 256 * 1024]))

        # The first 2 MiB are in Dockyard's staging while 14 MiB are still to come.
        deadline = time.monotonic() + 30
        staged = 0
        while time.monotonic() < deadline:
            files = [p for p in staged_dir.rglob(f"{upload_id}*") if p.is_file()]
            staged = max((p.stat().st_size for p in files), default=0)
            if staged >= len(first):
                break
            time.sleep(0.1)
        assert staged >= len(first), f"only {staged} bytes reached Dockyard: nginx buffers"

        # Another connection is answered meanwhile: the session exists, the PATCH still runs.
        status = https.get(f"{proxy.url}{upload_path}", headers=auth, timeout=30)
        assert status.status_code == 204
        assert status.headers["Docker-Upload-UUID"] == upload_id

        for offset in range(0, len(rest), MiB):
            stream.sendall(_chunk(rest[offset : offset + MiB]))
        stream.sendall(b"0\r\n\r\n")
        code, headers = _read_response(stream)
    body = first + rest
    assert code == 202
    assert headers["range"] == f"0-{len(body) - 1}"

    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    separator = "&" if "?" in upload_path else "?"
    done = https.put(
        f"{proxy.url}{upload_path}{separator}digest={digest}", headers=auth, timeout=60
    )
    assert done.status_code == 201, done.text
    blob = https.get(f"{proxy.url}/v2/alice/streamed/blobs/{digest}", headers=auth, timeout=60)
    assert blob.status_code == 200
    assert hashlib.sha256(blob.content).hexdigest() == digest.split(":")[1]
