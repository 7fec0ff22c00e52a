"""Blobs of mirrored repositories: fetched once from the upstream, streamed while they arrive.

One fetch per digest across every thread and web process: the fetcher holds an exclusive
`flock` on `<staging>/proxy/<digest>.lock` for as long as it runs (the kernel releases it if the
process dies; fetch_locks.py breaks one whose holder stopped making progress). It streams the
upstream body into a `.part` file in the staging area, hashing as it goes, then verifies the
digest and size and moves the file into storage: only verified bytes ever reach storage. It
runs in its own thread, so a client that goes away does not stop a fetch that others follow,
and it never touches the database: the requests record the Blob row and the repository's link
once the bytes are stored (so does the next request that finds them).

Every request, the one that started the fetch included, follows the `.part` file as it grows
and holds back the last bytes until the blob is stored, so no client ever receives a whole body
that failed verification. If the fetch breaks off (upstream gone, digest mismatch) the `.part`
file is deleted, followers break their connections, and nothing is visible.

A repository of the cache serves a blob only when the upstream holds it for that repository:
the view serves what the repository links (fetched for it before); anything else is first asked
of the upstream, even when the bytes are already stored here for another repository.

`<digest>.state` (JSON, replaced atomically) tells followers which `.part` file to follow, the
size the upstream announced and, after a failure, why it failed.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from django.http import HttpResponse, StreamingHttpResponse

from registry_api import storage
from registry_api.blob_responses import stored_blob_response
from registry_api.digests import digest_parse, hasher_new
from registry_api.manifests import INDEX_TYPES
from registry_api.models import Blob, Manifest
from registry_api.proxy.client import (
    UpstreamClient,
    UpstreamError,
    UpstreamNotFound,
    UpstreamRateLimited,
)
from registry_api.proxy.errors import UpstreamUnavailable
from registry_api.proxy.fetch_locks import (
    fetch_lock_take,
    fetch_paths,
    fetch_running,
    leftovers_remove,
    lock_owned,
)
from registry_api.proxy.upstreams import Upstream
from registry_api.services.blobs import blob_bytes_guard, blob_link, blob_register

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1024 * 1024
POLL_SECONDS = 0.02


class BlobFetchBroken(Exception):
    """The fetch this response follows failed: the connection must break, not end cleanly."""


def _state_read(path: Path) -> dict:
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def _state_write(path: Path, state: dict) -> None:
    temporary = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
    temporary.write_text(json.dumps(state))
    os.replace(temporary, path)


def _stored(digest: str) -> Blob | None:
    """The Blob for a digest whose verified bytes are in storage, recorded if need be.

    The fetch thread never touches the database: it moves verified bytes into storage, and
    the requests that follow it (or the next one to ask) record the Blob row.
    """
    blob = Blob.objects.filter(digest=digest).first()
    if blob is not None:
        return blob
    # Bytes without a row are orphans to garbage collection: found present under the guard,
    # they stay until the row is committed.
    with blob_bytes_guard():
        if storage.blobs().exists(digest):
            return blob_register(digest=digest, size=storage.blobs().size(digest))
    return None


def _link(repository, blob: Blob) -> None:
    blob_link(repository=repository, blob=blob)
    _manifests_link(repository, blob)


def _manifests_link(repository, blob: Blob) -> None:
    """Record the blob on the cached manifests of the repository that reference it."""
    candidates = (
        Manifest.objects.filter(repository=repository)
        .exclude(media_type__in=INDEX_TYPES)
        .exclude(blobs=blob)
    )
    for manifest in candidates:
        try:
            document = json.loads(bytes(manifest.payload))
        except ValueError:
            continue
        descriptors = [document.get("config") or {}, *(document.get("layers") or [])]
        if any(isinstance(d, dict) and d.get("digest") == blob.digest for d in descriptors):
            manifest.blobs.add(blob)


class _Fetch(threading.Thread):
    """One upstream download into staging; owns (and finally closes) the exclusive lock fd."""

    def __init__(self, *, lock_fd: int, upstream: Upstream, digest: str):
        super().__init__(name=f"proxy-fetch-{digest[:19]}", daemon=True)
        self.lock_fd = lock_fd
        self.upstream = upstream
        self.digest = digest
        self.lock_path, self.state_path = fetch_paths(digest)
        self.fetch_id = uuid.uuid4().hex
        self.part = self.state_path.with_name(f"{digest.replace(':', '-')}.{self.fetch_id}.part")

    def _state(self, **fields) -> None:
        if not lock_owned(self.lock_path, self.lock_fd):
            return  # the lock was broken as stale: the state is another fetch's now
        _state_write(self.state_path, {"id": self.fetch_id, "part": self.part.name, **fields})

    def run(self) -> None:
        try:
            self._download()
        except UpstreamNotFound:
            self._state(error="unknown")
        except UpstreamRateLimited:
            self._state(error="ratelimited")
        except Exception as exc:  # noqa: BLE001 - any failure must leave nothing behind
            logger.warning("proxy fetch of %s failed: %s", self.digest, exc)
            self._state(error="unavailable", detail=str(exc)[:200])
        finally:
            self.part.unlink(missing_ok=True)
            os.close(self.lock_fd)

    def _download(self) -> None:
        self.part.touch()
        self._state()
        response = UpstreamClient(self.upstream).blob_get(self.digest)
        with response:
            length = response.headers.get("Content-Length", "")
            size = int(length) if length.isdigit() else None
            self._state(size=size, streaming=True)
            hasher = hasher_new(digest_parse(self.digest).algorithm)
            written = 0
            with open(self.part, "wb", buffering=0) as out:
                for chunk in response.iter_content(CHUNK_SIZE):
                    if not lock_owned(self.lock_path, self.lock_fd):
                        raise UpstreamError("the fetch lock was broken as stale")
                    out.write(chunk)
                    hasher.update(chunk)
                    written += len(chunk)
        computed = f"{hasher.name}:{hasher.hexdigest()}"
        if computed != self.digest or (size is not None and written != size):
            raise UpstreamError(f"upstream sent {computed} ({written} bytes) for {self.digest}")
        storage.blobs().put_verified(self.digest, self.part)
        self._state(size=written, done=True)


def _follow(handle, digest: str, size: int | None, on_stored) -> Iterator[bytes]:
    """Yield the `.part` file's bytes as the fetch writes them; break if the fetch fails.

    `on_stored(blob)` runs once the verified blob is in storage, before the last bytes go out.
    """
    sent = 0
    try:
        while True:
            chunk = handle.read(CHUNK_SIZE)
            if not chunk:
                if fetch_running(digest):
                    time.sleep(POLL_SECONDS)
                    continue
                chunk = handle.read(CHUNK_SIZE)  # what was written just before the end
                if not chunk:
                    blob = _stored(digest) if size is None else None
                    # All of it: a broken stale fetch's `.part` ends short of a blob stored since.
                    if blob is not None and blob.size == sent:
                        on_stored(blob)
                        return
                    raise BlobFetchBroken(f"fetch of {digest} ended after {sent} bytes")
            if size is not None and sent + len(chunk) >= size:
                # The last bytes go out only once the digest is verified and the blob stored.
                while fetch_running(digest):
                    time.sleep(POLL_SECONDS)
                blob = _stored(digest)
                if blob is None:
                    raise BlobFetchBroken(f"fetch of {digest} failed verification")
                on_stored(blob)
            sent += len(chunk)
            yield chunk
            if size is not None and sent >= size:
                return
    finally:
        handle.close()


def _join(digest: str, deadline: float):
    """Wait for the running fetch to start streaming: (open .part file, announced size), or None
    when no fetch is running (any more)."""
    _, state_path = fetch_paths(digest)
    while time.monotonic() < deadline:
        if not fetch_running(digest):
            return None
        state = _state_read(state_path)
        if state.get("streaming") and not state.get("error") and not state.get("done"):
            try:
                handle = open(state_path.with_name(state["part"]), "rb", buffering=0)  # noqa: SIM115
            except FileNotFoundError:
                pass  # a finished fetch's state, or this one just ended
            else:
                return handle, state.get("size")
        time.sleep(POLL_SECONDS)
    raise UpstreamUnavailable({"reason": "timed out waiting for the upstream"})


def _local_response(request, repository, blob: Blob):
    _link(repository, blob)
    return stored_blob_response(request, blob)


def _streaming_response(handle, digest: str, size: int | None, repository):
    response = StreamingHttpResponse(
        _follow(handle, digest, size, lambda blob: _link(repository, blob))
    )
    response["Docker-Content-Digest"] = digest
    response["Content-Type"] = "application/octet-stream"
    if size is not None:
        response["Content-Length"] = str(size)
    return response


def _failure(state: dict):
    error = state.get("error")
    if error == "unknown":
        return None
    if error == "ratelimited":
        from registry_api.errors import TooManyRequests

        raise TooManyRequests(message="the upstream registry is rate limiting pulls")
    # The cause stays in the log: the upstream's address is the operator's business.
    raise UpstreamUnavailable({"reason": "the upstream fetch failed"})


def _upstream_size(upstream: Upstream, digest: str) -> int | None:
    """Ask the upstream (a HEAD) whether it holds the blob for this very repository: the size
    it announces (None when it does not say). UpstreamNotFound when it does not hold it."""
    try:
        return UpstreamClient(upstream).blob_head(digest)
    except UpstreamNotFound:
        raise
    except UpstreamError as exc:
        logger.warning("proxy HEAD of %s failed: %s", digest, exc)
        raise UpstreamUnavailable({"reason": "the upstream did not answer"}) from exc


def _head_response(digest: str, size: int | None):
    response = HttpResponse(status=200)
    response["Docker-Content-Digest"] = digest
    response["Content-Type"] = "application/octet-stream"
    if size is not None:
        response["Content-Length"] = str(size)
    return response


def blob_serve(*, request, upstream: Upstream, repository_get, digest: str, home=None):
    """The response for a blob the repository does not link yet, or None (unknown upstream).

    `repository_get()` returns the mirrored repository, creating it on first use; `home` is
    the cached repository the view could not look up (one in the mirror's own namespace).

    The upstream is asked first, for this repository, every time: bytes stored here may belong
    to another repository (a private one), so they are reused (no second download) only once the
    upstream confirms it holds the blob for this name. Until then the answer is the one for an
    absent blob, and nothing is linked (so nothing becomes mountable from the mirror).
    """
    digest_parse(digest)
    if home is not None:
        linked = Blob.objects.filter(digest=digest, repository_links__repository=home).first()
        if linked is not None:
            return stored_blob_response(request, linked)
    try:
        size = _upstream_size(upstream, digest)
    except UpstreamNotFound:
        return None
    blob = _stored(digest)
    if blob is not None:
        return _local_response(request, repository_get(), blob)
    if request.method == "HEAD":
        # A HEAD does not start a download: the upstream's answer is the answer.
        return _head_response(digest, size)
    _, state_path = fetch_paths(digest)
    started = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        blob = _stored(digest)
        if blob is not None:
            return _local_response(request, repository_get(), blob)
        lock_fd = fetch_lock_take(digest)
        if lock_fd is not None:
            if started or _stored(digest) is not None:
                os.close(lock_fd)
                if started:
                    return _failure(_state_read(state_path))
                continue
            try:
                leftovers_remove(digest)
                fetch = _Fetch(lock_fd=lock_fd, upstream=upstream, digest=digest)
            except Exception:
                os.close(lock_fd)
                raise
            fetch.start()
            started += 1
        joined = _join(digest, deadline)
        if joined is not None:
            return _streaming_response(joined[0], digest, joined[1], repository_get())
        if _stored(digest) is None and started:
            return _failure(_state_read(state_path))
        time.sleep(POLL_SECONDS)
    raise UpstreamUnavailable({"reason": "timed out waiting for the upstream"})
