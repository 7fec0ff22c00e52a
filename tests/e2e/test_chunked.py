"""A chunked upload whose requests land in different server processes.

Two Dockyard servers (two gunicorn masters, each with its own workers) share one DATA_DIR and one
database, as two web hosts behind a load balancer would. The PATCHes alternate between them, each
on a fresh TCP connection, and the status GET and the closing PUT go to the other one: the upload
session can only live in the shared database and storage, never in one process's memory.
"""

from __future__ import annotations

import hashlib
import os
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.conftest import PASSWORD
from tests.e2e.conftest import server_env
from tests.e2e.server import Server, drop_throwaway_database
from tests.e2e.tools import registry_token

CHUNK = 512 * 1024


@pytest.fixture(scope="module")
def twins(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("twins")
    env = server_env(tmp_path_factory)
    first = Server(data_dir, env=env)
    second = Server(data_dir, env=env)
    second.log_path = data_dir / "second.log"
    first.start()  # migrations run once, before the second server starts
    try:
        second.start()
        try:
            first.create_user("alice", PASSWORD)
            yield first, second
        finally:
            second.stop()
    finally:
        first.stop()
        drop_throwaway_database(env["DATABASE_URL"])


def _on(server: Server, location: str) -> str:
    """The upload URL the registry gave, sent to `server` instead (same path and query)."""
    parts = urllib.parse.urlsplit(location)
    return server.url + parts.path + (f"?{parts.query}" if parts.query else "")


def _fresh(method: str, url: str, **kwargs) -> requests.Response:
    """One request on its own TCP connection, closed afterwards."""
    with requests.Session() as session:
        headers = {"Connection": "close", **kwargs.pop("headers", {})}
        return session.request(method, url, headers=headers, timeout=60, **kwargs)


@pytest.mark.parametrize("last_chunk_in_put", [True, False], ids=["put-with-chunk", "empty-put"])
def test_chunks_on_alternating_servers(twins, last_chunk_in_put):
    first, second = twins
    token = registry_token(first.url, "repository:alice/chunked:pull,push", ("alice", PASSWORD))
    auth = {"Authorization": f"Bearer {token}"}
    body = os.urandom(5 * CHUNK + 12345)
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    chunks = [body[i : i + CHUNK] for i in range(0, len(body), CHUNK)]

    start = _fresh("POST", first.url + "/v2/alice/chunked/blobs/uploads/", headers=auth)
    assert start.status_code == 202, start.text
    location = start.headers["Location"]

    servers = [second, first]
    offset = 0
    to_patch = chunks[:-1] if last_chunk_in_put else chunks
    for index, chunk in enumerate(to_patch):
        target = servers[index % 2]
        answer = _fresh(
            "PATCH",
            _on(target, location),
            data=chunk,
            headers={
                **auth,
                "Content-Type": "application/octet-stream",
                "Content-Range": f"{offset}-{offset + len(chunk) - 1}",
            },
        )
        assert answer.status_code == 202, (target.port, answer.text)
        offset += len(chunk)
        assert answer.headers["Range"] == f"0-{offset - 1}"
        location = answer.headers["Location"]

    # The other server knows the offset, and refuses a chunk that does not continue it.
    other = servers[len(to_patch) % 2]
    status = _fresh("GET", _on(other, location), headers=auth)
    assert status.status_code == 204
    assert status.headers["Range"] == f"0-{offset - 1}"
    wrong = _fresh(
        "PATCH",
        _on(other, location),
        data=b"x" * 10,
        headers={**auth, "Content-Type": "application/octet-stream", "Content-Range": "0-9"},
    )
    assert wrong.status_code == 416, (wrong.status_code, wrong.text, wrong.headers)

    separator = "&" if "?" in location else "?"
    final = chunks[-1] if last_chunk_in_put else b""
    done = _fresh(
        "PUT",
        _on(other, f"{location}{separator}digest={digest}"),
        data=final,
        headers={**auth, "Content-Type": "application/octet-stream"},
    )
    assert done.status_code == 201, done.text
    assert done.headers["Docker-Content-Digest"] == digest

    for server in (first, second):
        blob = _fresh("GET", f"{server.url}/v2/alice/chunked/blobs/{digest}", headers=auth)
        assert blob.status_code == 200
        assert blob.content == body


def test_concurrent_first_uploads_create_the_repository_once(twins):
    """docker and podman start several layer uploads at once on a repository's first push; the
    requests race to create the repository, in different processes. Every one must get its 202."""
    first, second = twins
    name = "alice/raced"
    token = registry_token(first.url, f"repository:{name}:pull,push", ("alice", PASSWORD))
    auth = {"Authorization": f"Bearer {token}"}

    def start(index: int) -> int:
        server = (first, second)[index % 2]
        return _fresh("POST", f"{server.url}/v2/{name}/blobs/uploads/", headers=auth).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(start, range(12)))
    assert statuses == [202] * 12
