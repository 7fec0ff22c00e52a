"""Blobs as objects in an OpenStack Swift container (Rackspace Cloud Files speaks the same API),
configured through django-storage-swift's SwiftStorage and spoken with python-swiftclient.

A put is one streamed object PUT: Swift makes an object visible only once its PUT completes.
Past SWIFT_SEGMENT_SIZE (Swift refuses single objects over 5 GiB by default) the blob is
uploaded as segments under `segments/` and published by one Static Large Object manifest PUT,
equally all-or-nothing (segments of a failed put are never part of a blob). Reads stream the
object body (or a `Range` of it): SwiftStorage._open would read the whole object into memory,
and its listdir takes any name without a dot for a directory, so this driver walks listings
itself. swiftclient connections are not thread-safe:
each thread gets its own.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import swiftclient
from django.conf import settings
from requests.exceptions import RequestException
from swiftclient.utils import generate_temp_url

from registry_api.storage import (
    READ_CHUNK,
    StorageUnavailable,
    blob_path,
    delete_in_parallel,
)
from registry_api.storage.django_store import DjangoBlobStore, chunk_reader

logger = logging.getLogger(__name__)
# Seconds a request to Swift may stall before it fails (swiftclient waits forever by default).
TIMEOUT = 60
LISTING_PAGE = 10000
_ERRORS = (swiftclient.ClientException, RequestException)


def _missing(exc: Exception) -> bool:
    return isinstance(exc, swiftclient.ClientException) and exc.http_status == 404


def _body_chunks(body) -> Iterator[bytes]:
    try:
        yield from body
    finally:
        body.close()


class _Segment:
    """A file object on [offset, offset + length) of an open file, for one segment PUT."""

    def __init__(self, handle, offset: int, length: int):
        self.handle, self.offset, self.length = handle, offset, length
        self.reset()

    def reset(self) -> None:
        """Back to the segment's start (swiftclient calls it to retry a failed PUT)."""
        self.handle.seek(self.offset)
        self.remaining = self.length

    def read(self, size: int = -1) -> bytes:
        if size < 0 or size > self.remaining:
            size = self.remaining
        data = self.handle.read(size)
        self.remaining -= len(data)
        return data


class SwiftBlobStore(DjangoBlobStore):
    def __init__(self, storage):
        super().__init__(storage)
        self._local = threading.local()
        self._container_ready = False

    @property
    def container(self) -> str:
        return self.storage.container_name

    def _name(self, digest: str) -> str:
        return self.storage.name_prefix + blob_path(digest)

    def _connection(self) -> swiftclient.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            storage = self.storage
            connection = swiftclient.Connection(
                authurl=storage.api_auth_url,
                user=storage.api_username,
                key=storage.api_key,
                retries=storage.max_retries,
                tenant_name=storage.tenant_name,
                os_options=storage.os_options,
                auth_version=storage.auth_version,
                timeout=TIMEOUT,
            )
            self._local.connection = connection
        return connection

    def _head(self, digest: str) -> dict | None:
        try:
            return self._connection().head_object(self.container, self._name(digest))
        except swiftclient.ClientException as exc:
            if _missing(exc):
                return None
            raise

    def exists(self, digest: str) -> bool:
        return self._head(digest) is not None

    def size(self, digest: str) -> int:
        headers = self._head(digest)
        if headers is None:
            raise FileNotFoundError(digest)
        return int(headers["content-length"])

    def _body(self, digest: str, byte_range: str | None = None):
        """Open the object body now, so a missing object fails before a response starts."""
        headers = {"Range": byte_range} if byte_range else {}
        try:
            _, body = self._connection().get_object(
                self.container, self._name(digest), resp_chunk_size=READ_CHUNK, headers=headers
            )
        except swiftclient.ClientException as exc:
            if _missing(exc):
                raise FileNotFoundError(digest) from exc
            raise
        return body

    def open(self, digest: str) -> BinaryIO:
        return chunk_reader(self.chunks(digest))

    def open_local(self, digest: str) -> None:
        return None

    def chunks(self, digest: str) -> Iterator[bytes]:
        return _body_chunks(self._body(digest))

    def range_chunks(self, digest: str, start: int, end: int) -> Iterator[bytes]:
        return _body_chunks(self._body(digest, f"bytes={start}-{end}"))

    def redirect_url(self, digest: str) -> str | None:
        """A TempURL for GET (HMAC-SHA256 with the account's temp-url key), when a key is
        configured. Signed here on this thread's connection: SwiftStorage.url shares one
        connection between threads and may read its storage URL before it authenticated."""
        storage = self.storage
        if not storage.use_temp_urls:
            return None
        connection = self._connection()
        try:
            storage_url = connection.url or connection.get_auth()[0]
        except _ERRORS:
            return None  # Swift is unreachable: the proxied GET reports it
        parts = urlsplit(storage_url)
        # Signed over the unquoted path, as the proxy checks it.
        path = f"{unquote(parts.path)}/{self.container}/{self._name(digest)}"
        signed = generate_temp_url(
            path, int(storage.temp_url_duration), storage.temp_url_key, "GET", digest="sha256"
        )
        signed_path, query = signed.split("?", 1)
        return urlunsplit((parts.scheme, parts.netloc, quote(signed_path), query, ""))

    def _ensure_container(self, connection) -> None:
        if self._container_ready:
            return
        try:
            connection.head_container(self.container)
        except swiftclient.ClientException as exc:
            if not (_missing(exc) and self.storage.auto_create_container):
                raise
            connection.put_container(self.container)
        self._container_ready = True

    def put_verified(self, digest: str, staged: Path) -> None:
        name = self._name(digest)
        with open(staged, "rb") as handle:
            size = staged.stat().st_size
            try:
                connection = self._connection()
                self._ensure_container(connection)
                if not self.exists(digest):
                    if size > settings.SWIFT_SEGMENT_SIZE:
                        self._put_segmented(connection, name, handle, size)
                    else:
                        connection.put_object(
                            self.container,
                            name,
                            handle,
                            content_length=size,
                            content_type="application/octet-stream",
                            chunk_size=READ_CHUNK,
                        )
            except _ERRORS as exc:
                raise StorageUnavailable(f"Swift refused the blob: {exc}") from exc
        staged.unlink(missing_ok=True)

    def _put_segmented(self, connection, name: str, handle, size: int) -> None:
        """Segments first (invisible under blobs/), then the manifest that publishes them."""
        slo = connection.get_capabilities().get("slo")
        segment_size = settings.SWIFT_SEGMENT_SIZE
        if not slo or -(-size // segment_size) > slo.get("max_manifest_segments", 1000):
            raise StorageUnavailable(
                f"a {size} byte blob needs Static Large Objects of at most "
                f"{(slo or {}).get('max_manifest_segments', 0)} segments of SWIFT_SEGMENT_SIZE"
            )
        # Under the blob's own name, so stray segments of a failed put are traceable.
        prefix = f"{self.storage.name_prefix}segments/{name.rsplit('/', 1)[1]}/{uuid.uuid4().hex}"
        manifest = []
        for number, offset in enumerate(range(0, size, segment_size)):
            length = min(segment_size, size - offset)
            segment = f"{prefix}/{number:08d}"
            etag = connection.put_object(
                self.container,
                segment,
                _Segment(handle, offset, length),
                content_length=length,
                chunk_size=READ_CHUNK,
            )
            manifest.append(
                {"path": f"/{self.container}/{segment}", "etag": etag, "size_bytes": length}
            )
        connection.put_object(
            self.container,
            name,
            json.dumps(manifest),
            content_type="application/octet-stream",
            query_string="multipart-manifest=put",
        )

    def delete(self, digest: str) -> None:
        connection, name = self._connection(), self._name(digest)
        headers = self._head(digest)
        if headers is None:
            return
        segments = []
        if headers.get("x-static-large-object", "").lower() == "true":
            _, listing = connection.get_object(
                self.container, name, query_string="multipart-manifest=get"
            )
            segments = [entry["name"].split("/", 2)[2] for entry in json.loads(listing)]
        try:
            # The manifest (or plain object) first: the blob is gone once it is.
            connection.delete_object(self.container, name)
        except swiftclient.ClientException as exc:
            if not _missing(exc):
                raise
        for segment in segments:
            try:
                connection.delete_object(self.container, segment)
            except swiftclient.ClientException as exc:
                if not _missing(exc):
                    logger.warning("could not delete segment %s of %s: %s", segment, digest, exc)

    def delete_many(self, digests: Iterable[str]) -> list[str]:
        # Each DELETE is a round trip to Swift: threads (each with its own connection) overlap them.
        return delete_in_parallel(digests, self.delete, _ERRORS)

    def digests(self) -> Iterator[str]:
        """A paged listing walk of `blobs/` (one page of names held at a time)."""
        connection = self._connection()
        prefix = f"{self.storage.name_prefix}blobs/"
        marker = ""
        while True:
            try:
                _, page = connection.get_container(
                    self.container, prefix=prefix, marker=marker, limit=LISTING_PAGE
                )
            except swiftclient.ClientException as exc:
                if _missing(exc):  # no container yet: nothing stored
                    return
                raise
            for item in page:
                parts = item["name"][len(prefix) :].split("/")
                if len(parts) == 3:
                    yield f"{parts[0]}:{parts[2]}"
            if len(page) < LISTING_PAGE:
                return
            marker = page[-1]["name"]
