"""Oversized bodies against the real server (gunicorn as `make run` starts it), on a raw socket."""

from __future__ import annotations

import base64
import http.client
import json
import socket

from tests.conftest import PASSWORD


def _exchange(server, request: bytes, body: bytes) -> tuple[int, bytes]:
    with socket.create_connection((server.host, server.port), timeout=30) as sock:
        sock.sendall(request)
        sock.sendall(body)  # a reset would surface here or while reading the answer
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, response.read()


def test_an_oversized_manifest_with_connection_close_reads_the_413(server, registry_users):
    body = b"{" + b" " * (5 * 1024 * 1024) + b"}"
    credentials = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    head = (
        "PUT /v2/alice/big/manifests/latest HTTP/1.1\r\n"
        f"Host: {server.address}\r\n"
        f"Authorization: Basic {credentials}\r\n"
        "Content-Type: application/vnd.oci.image.manifest.v1+json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()

    status, payload = _exchange(server, head, body)

    assert status == 413, payload[:500]
    assert json.loads(payload)["errors"][0]["code"] == "MANIFEST_INVALID"
