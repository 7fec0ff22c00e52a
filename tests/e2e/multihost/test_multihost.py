"""Several hosts, no shared directory: pushes, chunked uploads, killed hosts and killed workers.

The cluster (cluster.py) runs three web hosts, two Celery workers and beat, each in a network
namespace of its own, on one PostgreSQL, one Redis and one S3 (SeaweedFS); a round-robin TCP
proxy stands in front of the web hosts. Clients run in the root namespace: skopeo, a small
registry client written here (requests and a raw socket), and a webhook receiver.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from tests.conftest import PASSWORD
from tests.e2e.images import MiB, build_image
from tests.e2e.tools import Skopeo, registry_token

REPO = "alice/multihost"
CREDS = f"alice:{PASSWORD}"
LEASE_SECONDS = 6  # UPLOAD_S3_LEASE_SECONDS of the cluster (cluster.py)
_ACCESS_LINE = re.compile(r"\b(GET|HEAD|POST|PATCH|PUT|DELETE) (/\S*) (\d{3}) \d+B ")


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _on(base_url: str, location: str) -> str:
    """The upload URL the registry gave, sent to another host (same path and query)."""
    parts = urllib.parse.urlsplit(location)
    return base_url + parts.path + (f"?{parts.query}" if parts.query else "")


def _fresh(method: str, url: str, **kwargs) -> requests.Response:
    """One request on a TCP connection of its own, so it lands on the host addressed."""
    with requests.Session() as session:
        session.trust_env = False
        headers = {"Connection": "close", **kwargs.pop("headers", {})}
        return session.request(method, url, headers=headers, timeout=60, **kwargs)


def _with_digest(url: str, digest: str) -> str:
    return url + ("&" if "?" in url else "?") + f"digest={digest}"


def _offset(answer: requests.Response) -> int:
    """The upload's size from a progress answer's `Range: 0-<last byte>`."""
    end = int(answer.headers["Range"].split("-", 1)[1])
    return end + 1 if end else 0  # `0-0`: empty (never one byte here)


@pytest.fixture(scope="module")
def token(cluster) -> dict[str, str]:
    """A token from the proxy (any host): every host must accept it (one signing key)."""
    value = registry_token(cluster.proxy_url, f"repository:{REPO}:pull,push", ("alice", PASSWORD))
    return {"Authorization": f"Bearer {value}"}


@pytest.fixture(scope="module")
def uploaded() -> dict[str, bytes]:
    """Blobs the tests below uploaded: digest -> bytes; the last test reads each on each host."""
    return {}


@pytest.fixture(scope="module")
def skopeo(tmp_path_factory) -> Skopeo:
    return Skopeo(tmp_path_factory.mktemp("skopeo-multihost"))


@pytest.fixture(scope="module")
def pushed(cluster, skopeo, tmp_path_factory) -> dict:
    """The image skopeo pushed through the proxy, and what each host's access log got meanwhile."""
    directory = tmp_path_factory.mktemp("multihost-image")
    image = build_image(
        directory / "layers", message="multihost", sizes=(3 * MiB, 2 * MiB, 2 * MiB, MiB), seed=15
    )
    source = image.write_oci_layout(directory / "oci", "v1")
    offsets = [host.log_size() for host in cluster.web]
    started = time.monotonic()
    digest = skopeo.push(source, f"docker://{cluster.proxy_hostport}/{REPO}:v1", CREDS)
    seconds = time.monotonic() - started
    time.sleep(0.5)  # gunicorn writes the access line after the answer
    logs = [host.log_since(offset) for host, offset in zip(cluster.web, offsets, strict=True)]
    return {"digest": digest, "image": image, "logs": logs, "seconds": seconds}


def _requests_of(log: str, path_prefix: str) -> list[tuple[str, str, int]]:
    return [
        (m.group(1), m.group(2), int(m.group(3)))
        for m in _ACCESS_LINE.finditer(log)
        if m.group(2).startswith(path_prefix)
    ]


def test_push_through_the_proxy_is_served_by_all_three_hosts(cluster, pushed):
    served = [_requests_of(log, f"/v2/{REPO}/") for log in pushed["logs"]]
    spread = {cluster.web[i].name: len(requests_) for i, requests_ in enumerate(served)}
    print(f"push through the proxy in {pushed['seconds']:.1f}s, requests per host: {spread}")
    assert all(spread.values()), f"a host served none of the push: {spread}"
    errors = [r for requests_ in served for r in requests_ if r[2] >= 500]
    assert not errors, errors
    uploads = {i for i, requests_ in enumerate(served) for r in requests_ if "/uploads/" in r[1]}
    assert len(uploads) >= 2, f"blob uploads all on one host: {spread}"
    manifest = _fresh(
        "GET",
        f"{cluster.proxy_url}/v2/{REPO}/manifests/v1",
        auth=("alice", PASSWORD),
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
    )
    assert manifest.status_code == 200, manifest.text
    assert sha256(manifest.content) == pushed["digest"]


def test_chunks_alternate_hosts(cluster, token, uploaded):
    """POST on one host, each PATCH on the next, progress asked of every host, PUT on the last."""
    sizes = (5 * MiB, 2 * MiB, 6 * MiB, 3 * MiB + 17, 1 * MiB + 5)
    body = os.urandom(sum(sizes))
    digest = sha256(body)
    hosts = [cluster.web_url(i) for i in range(len(cluster.web))]

    start = _fresh("POST", f"{hosts[0]}/v2/{REPO}/blobs/uploads/", headers=token)
    assert start.status_code == 202, start.text
    location = start.headers["Location"]
    offset = 0
    for index, size in enumerate(sizes[:-1]):
        host = hosts[(index + 1) % len(hosts)]
        chunk = body[offset : offset + size]
        answer = _fresh(
            "PATCH",
            _on(host, location),
            data=chunk,
            headers={
                **token,
                "Content-Type": "application/octet-stream",
                "Content-Range": f"{offset}-{offset + size - 1}",
            },
        )
        assert answer.status_code == 202, f"PATCH {index} on {host}: {answer.text}"
        offset += size
        assert _offset(answer) == offset
        location = answer.headers["Location"]
        for other in hosts:  # every host sees the same progress
            progress = _fresh("GET", _on(other, location), headers=token)
            assert progress.status_code == 204, f"GET on {other}: {progress.text}"
            assert _offset(progress) == offset, other

    last = body[offset:]
    done = _fresh(
        "PUT",
        _with_digest(_on(hosts[len(sizes) % len(hosts)], location), digest),
        data=last,
        headers={
            **token,
            "Content-Type": "application/octet-stream",
            "Content-Range": f"{offset}-{offset + len(last) - 1}",
        },
    )
    assert done.status_code == 201, done.text
    uploaded[digest] = body
    assert cluster.staged_files() == []  # no host kept any of it on its own disk
    for host in hosts:
        got = _fresh("GET", f"{host}/v2/{REPO}/blobs/{digest}", headers=token)
        assert got.status_code == 200, f"{host}: {got.text}"
        assert sha256(got.content) == digest, host


def _patch_and_die(cluster, host_index: int, location: str, token: dict, start: int, data: bytes):
    """Send a PATCH of `data` to a host, kill -9 the host halfway through the body."""
    address = cluster.web_addresses[host_index]
    url = urllib.parse.urlsplit(_on(cluster.web_url(host_index), location))
    target = url.path + (f"?{url.query}" if url.query else "")
    head = (
        f"PATCH {target} HTTP/1.1\r\nHost: {cluster.web_hostport(host_index)}\r\n"
        f"Authorization: {token['Authorization']}\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Range: {start}-{start + len(data) - 1}\r\nContent-Length: {len(data)}\r\n\r\n"
    ).encode()
    half = len(data) // 2
    with socket.create_connection((address, 8000), timeout=30) as sock:
        sock.sendall(head + data[:half])
        time.sleep(1)  # the host has read (and staged) some of it
        cluster.web[host_index].kill()
        try:
            sock.sendall(data[half:])
            answer = sock.recv(1024)
        except OSError:
            answer = b""
    assert not answer.startswith(b"HTTP/1.1 202"), "the PATCH finished before the kill"


def test_host_killed_mid_patch_and_the_upload_resumes_on_another(cluster, token, uploaded):
    body = os.urandom(14 * MiB + 99)
    digest = sha256(body)
    first = 5 * MiB
    start = _fresh("POST", f"{cluster.web_url(0)}/v2/{REPO}/blobs/uploads/", headers=token)
    assert start.status_code == 202, start.text
    answer = _fresh(
        "PATCH",
        _on(cluster.web_url(1), start.headers["Location"]),
        data=body[:first],
        headers={**token, "Content-Range": f"0-{first - 1}"},
    )
    assert answer.status_code == 202, answer.text
    location = answer.headers["Location"]
    try:
        _patch_and_die(cluster, 2, location, token, first, body[first:])

        progress = _fresh("GET", _on(cluster.web_url(0), location), headers=token)
        assert progress.status_code == 204, progress.text
        offset = _offset(progress)
        assert first <= offset < len(body), f"resume offset {offset}"
        for index in (0, 1):  # nothing half-written is visible as the blob
            head = _fresh(
                "HEAD", f"{cluster.web_url(index)}/v2/{REPO}/blobs/{digest}", headers=token
            )
            assert head.status_code == 404

        # The dead host's lease on the session runs out (UPLOAD_S3_LEASE_SECONDS): until then
        # the session answers 416 "upload busy" with its offset, and the client tries again.
        deadline = time.monotonic() + 4 * LEASE_SECONDS
        while True:
            try:
                answer = _fresh(
                    "PATCH",
                    _on(cluster.web_url(0), location),
                    data=body[offset:],
                    headers={**token, "Content-Range": f"{offset}-{len(body) - 1}"},
                )
                if answer.status_code != 416 or time.monotonic() > deadline:
                    break
            except requests.ConnectionError:  # answered 416 and closed before our body was sent
                assert time.monotonic() < deadline
            time.sleep(0.5)
            progress = _fresh("GET", _on(cluster.web_url(1), location), headers=token)
            assert progress.status_code == 204, progress.text
            offset = _offset(progress)
        assert answer.status_code == 202, answer.text
        assert _offset(answer) == len(body)
        done = _fresh(
            "PUT",
            _with_digest(_on(cluster.web_url(1), answer.headers["Location"]), digest),
            headers=token,
        )
        assert done.status_code == 201, done.text
        uploaded[digest] = body
    finally:
        cluster.restart_web(2)  # the pulls below read from every host
    for index in range(len(cluster.web)):
        got = _fresh("GET", f"{cluster.web_url(index)}/v2/{REPO}/blobs/{digest}", headers=token)
        assert got.status_code == 200, got.text
        assert sha256(got.content) == digest


@dataclass
class Request:
    client: str
    headers: dict[str, str]
    body: bytes


@dataclass
class HoldingReceiver:
    """A webhook receiver that holds the first request (until released), answers 200 after."""

    address: str
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self):
        self.release = threading.Event()
        self._arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver._arrived:
                    receiver.requests.append(Request(self.client_address[0], headers, body))
                    first = len(receiver.requests) == 1
                    receiver._arrived.notify_all()
                if first:
                    receiver.release.wait(60)
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((self.address, 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{self.address}:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout: float) -> list[Request]:
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.requests) < count:
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"{len(self.requests)} of {count} requests in {timeout}s"
                self._arrived.wait(remaining)
            return list(self.requests)

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def _signed_by(secret: str, request: Request) -> bool:
    """Standard Webhooks verification, written from the spec."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    headers = request.headers
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + request.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(
        hmac.compare_digest(expected, part.split(",", 1)[1])
        for part in headers["webhook-signature"].split()
    )


def _push_small_image(base_url: str, repo: str, tag: str) -> str:
    """A one-layer OCI image by monolithic uploads; returns the manifest digest."""
    auth = {"Authorization": "Bearer " + registry_token(base_url, f"repository:{repo}:pull,push",
                                                        ("alice", PASSWORD))}  # fmt: skip
    layer = os.urandom(4096)
    config = json.dumps(
        {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}
    ).encode()
    for blob in (layer, config):
        answer = _fresh(
            "POST",
            f"{base_url}/v2/{repo}/blobs/uploads/?digest={sha256(blob)}",
            data=blob,
            headers={**auth, "Content-Type": "application/octet-stream"},
        )
        assert answer.status_code == 201, answer.text
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": sha256(config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": sha256(layer),
                    "size": len(layer),
                }
            ],
        }
    ).encode()
    answer = _fresh(
        "PUT",
        f"{base_url}/v2/{repo}/manifests/{tag}",
        data=manifest,
        headers={**auth, "Content-Type": "application/vnd.oci.image.manifest.v1+json"},
    )
    assert answer.status_code == 201, answer.text
    return sha256(manifest)


def test_worker_killed_mid_delivery_and_the_webhook_is_delivered_once(cluster):
    receiver = HoldingReceiver(cluster.net.root_address)
    try:
        cluster.python(
            "from hub.models import Namespace\n"
            "from hub.services.repositories import repository_create\n"
            "repository_create(namespace=Namespace.objects.get(name='alice'), name='hooked')\n"
        )
        hook = _fresh(
            "POST",
            f"{cluster.proxy_url}/api/v1/repositories/alice/hooked/webhooks/",
            json={"name": "ci", "url": receiver.url, "events": ["push"]},
            auth=("alice", PASSWORD),
        )
        assert hook.status_code == 201, hook.text
        digest = _push_small_image(cluster.proxy_url, "alice/hooked", "v1")

        [first] = receiver.wait_for(1, timeout=60)
        by_address = dict(zip(cluster.worker_addresses, cluster.workers, strict=True))
        assert first.client in by_address, first.client
        by_address[first.client].kill()  # kill -9 while the request is held open
        receiver.release.set()

        second = receiver.wait_for(2, timeout=90)[1]
        assert second.client in by_address and second.client != first.client
        assert second.headers["webhook-id"] == first.headers["webhook-id"]
        # Each worker signs with the secret it decrypted (DATA_ENCRYPTION_KEY from the env).
        assert _signed_by(hook.json()["secret"], first) and _signed_by(
            hook.json()["secret"], second
        )
        assert json.loads(second.body)["push_data"]["digest"] == digest

        deliveries_url = (
            f"{cluster.proxy_url}/api/v1/repositories/alice/hooked/webhooks/"
            f"{hook.json()['id']}/deliveries/"
        )
        deadline = time.monotonic() + 30
        while True:
            answer = _fresh("GET", deliveries_url, auth=("alice", PASSWORD))
            assert answer.status_code == 200, answer.text
            [delivery] = answer.json()["results"]  # one logical delivery
            if delivery["status"] == "delivered" or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert delivery["status"] == "delivered", delivery
        assert delivery["webhook_id"] == first.headers["webhook-id"]
        time.sleep(3)  # a duplicate would have come by now (sweep every 2 s)
        assert len(receiver.requests) == 2
        recorded = cluster.python(
            "from webhooks.models import DeliveryAttempt\n"
            "print(list(DeliveryAttempt.objects.filter(delivery__webhook__repository__name="
            "'hooked').values_list('status_code', flat=True)))\n"
        )
        assert json.loads(recorded.splitlines()[-1]) == [200], (
            recorded
        )  # the killed attempt: no answer
    finally:
        receiver.close()


def test_pull_from_each_host(cluster, pushed, skopeo, uploaded, token, tmp_path):
    for index in range(len(cluster.web)):
        target = tmp_path / f"pull-{index}"
        skopeo(
            "copy",
            "--src-tls-verify=false",
            "--src-creds",
            CREDS,
            f"docker://{cluster.web_hostport(index)}/{REPO}:v1",
            f"dir:{target}",
        )
        manifest = (target / "manifest.json").read_bytes()
        assert sha256(manifest) == pushed["digest"]
        layers = json.loads(manifest)["layers"]
        for descriptor in [json.loads(manifest)["config"], *layers]:
            blob = Path(target / descriptor["digest"].split(":", 1)[1]).read_bytes()
            assert sha256(blob) == descriptor["digest"]
            assert len(blob) == descriptor["size"]
        assert len(layers) == len(pushed["image"].layers)
    for digest in uploaded:  # the chunked and the resumed uploads, on every host
        for index in range(len(cluster.web)):
            got = _fresh("GET", f"{cluster.web_url(index)}/v2/{REPO}/blobs/{digest}", headers=token)
            assert got.status_code == 200, got.text
            assert sha256(got.content) == digest
