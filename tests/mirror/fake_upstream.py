"""A tiny registry on loopback whose misbehaviour a test controls: slow bodies, bodies that
break off half-way, a Bearer token challenge (with its realm anywhere), blobs redirected
elsewhere. It counts every request it answers and records the Authorization each one carried.

It serves only what a test puts in it (`manifest()`, `blob()`), read-only, like an upstream.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = "upstream-token-123"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class FakeUpstream:
    def __init__(
        self,
        *,
        token_credentials: tuple[str, str] | None = None,
        bearer=False,
        host: str = "127.0.0.1",
    ):
        self.manifests: dict[tuple[str, str], tuple[bytes, str]] = {}
        self.blobs: dict[str, bytes] = {}
        self.requests: Counter[str] = Counter()
        self.authorizations: list[tuple[str, str | None]] = []  # (request, Authorization)
        self.bearer = bearer
        self.token_credentials = token_credentials
        self.break_blobs = False  # send half of a blob's bytes, then close
        self.chunk_delay = 0.0  # seconds between 64 KiB chunks of a blob
        self.manifest_delay = 0.0  # seconds before answering a manifest request
        self.realm: str | None = None  # the token realm the challenge names; ours by default
        self.blob_redirect: str | None = None  # answer blob requests with a 307 to <this>/<path>
        self.refuse_head = False  # 403 to every HEAD (as URLs signed for a GET answer)
        self.server = ThreadingHTTPServer((host, 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeUpstream:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def blob(self, data: bytes) -> str:
        digest = sha256(data)
        self.blobs[digest] = data
        return digest

    def manifest(self, name: str, tag: str, layers: list[bytes]) -> str:
        """An OCI image manifest of `layers` (the first is the config) under name:tag."""
        config, *rest = layers
        document = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": self.blob(config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": self.blob(layer),
                    "size": len(layer),
                }
                for layer in rest
            ],
        }
        body = json.dumps(document).encode()
        media_type = document["mediaType"]
        digest = sha256(body)
        self.manifests[(name, tag)] = (body, media_type)
        self.manifests[(name, digest)] = (body, media_type)
        return digest

    def _handler(self):
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _send(self, status, body=b"", headers=None):
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _authorized(self) -> bool:
                if not upstream.bearer:
                    return True
                if self.headers.get("Authorization") == f"Bearer {TOKEN}":
                    return True
                realm = upstream.realm or f"{upstream.url}/token"
                self._send(
                    401,
                    b'{"errors":[{"code":"UNAUTHORIZED"}]}',
                    {"WWW-Authenticate": f'Bearer realm="{realm}",service="fake"'},
                )
                return False

            def _token(self):
                if upstream.token_credentials is not None:
                    user, password = upstream.token_credentials
                    expected = base64.b64encode(f"{user}:{password}".encode()).decode()
                    if self.headers.get("Authorization") != f"Basic {expected}":
                        self._send(401, b'{"details":"bad credentials"}')
                        return
                body = json.dumps({"token": TOKEN, "expires_in": 300}).encode()
                self._send(200, body, {"Content-Type": "application/json"})

            def do_HEAD(self):  # noqa: N802
                self.do_GET()

            def do_GET(self):  # noqa: N802
                path = self.path.split("?", 1)[0]
                upstream.requests[f"{self.command} {path}"] += 1
                upstream.authorizations.append(
                    (f"{self.command} {path}", self.headers.get("Authorization"))
                )
                if path == "/token":
                    return self._token()
                if not self._authorized():
                    return None
                if path == "/v2/":
                    return self._send(200, b"{}")
                name, kind, reference = _route(path)
                if kind == "manifests" and upstream.manifest_delay:
                    time.sleep(upstream.manifest_delay)
                if kind == "manifests" and (name, reference) in upstream.manifests:
                    body, media_type = upstream.manifests[(name, reference)]
                    return self._send(
                        200,
                        body,
                        {"Content-Type": media_type, "Docker-Content-Digest": sha256(body)},
                    )
                if self.command == "HEAD" and upstream.refuse_head:
                    return self._send(403)
                if kind == "blobs" and upstream.blob_redirect:
                    return self._send(307, headers={"Location": upstream.blob_redirect + path})
                if kind == "blobs" and reference in upstream.blobs:
                    return self._blob(upstream.blobs[reference], reference)
                return self._send(404, b'{"errors":[{"code":"NOT_FOUND"}]}')

            def _blob(self, data: bytes, digest: str):
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Docker-Content-Digest", digest)
                self.end_headers()
                if self.command == "HEAD":
                    return
                limit = len(data) // 2 if upstream.break_blobs else len(data)
                for start in range(0, limit, 64 * 1024):
                    self.wfile.write(data[start : min(start + 64 * 1024, limit)])
                    self.wfile.flush()
                    if upstream.chunk_delay:
                        time.sleep(upstream.chunk_delay)
                if upstream.break_blobs:
                    self.close_connection = True
                    self.connection.shutdown(2)

        return Handler


def _route(path: str) -> tuple[str, str, str]:
    """`/v2/<name>/<manifests|blobs>/<reference>` → (name, kind, reference)."""
    parts = path[len("/v2/") :].split("/")
    if len(parts) < 3:
        return "", "", ""
    return "/".join(parts[:-2]), parts[-2], parts[-1]
