"""The blob store as every caller gets it: each driver call timed, failures counted
(config.metrics), in this one place rather than in each driver."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from config.metrics import storage_timed
from registry_api.storage import BlobStore


class TimedBlobStore(BlobStore):
    """Delegates to the configured driver. Streams (chunks, range_chunks, open) are timed until
    they are open, not while the client reads them. A missing blob is an answer to a read, an
    error to a write."""

    def __init__(self, driver: BlobStore):
        self.driver = driver
        self.backend = type(driver).__name__.removesuffix("BlobStore").lower() or "unknown"

    def __getattr__(self, name):  # a driver's own attribute (e.g. its Django storage)
        return getattr(self.driver, name)

    def exists(self, digest: str) -> bool:
        with storage_timed("exists", self.backend):
            return self.driver.exists(digest)

    def size(self, digest: str) -> int:
        with storage_timed("size", self.backend):
            return self.driver.size(digest)

    def open(self, digest: str) -> BinaryIO:
        with storage_timed("open", self.backend):
            return self.driver.open(digest)

    def open_local(self, digest: str) -> BinaryIO | None:
        with storage_timed("open", self.backend):
            return self.driver.open_local(digest)

    def chunks(self, digest: str) -> Iterator[bytes]:
        with storage_timed("read", self.backend):
            return self.driver.chunks(digest)

    def range_chunks(self, digest: str, start: int, end: int) -> Iterator[bytes]:
        with storage_timed("read", self.backend):
            return self.driver.range_chunks(digest, start, end)

    def redirect_url(self, digest: str) -> str | None:
        with storage_timed("redirect_url", self.backend):
            return self.driver.redirect_url(digest)

    def put_verified(self, digest: str, staged: Path) -> None:
        with storage_timed("put", self.backend, expected=()):
            self.driver.put_verified(digest, staged)

    def delete(self, digest: str) -> None:
        with storage_timed("delete", self.backend, expected=()):
            self.driver.delete(digest)

    def delete_many(self, digests: Iterable[str]) -> list[str]:
        with storage_timed("delete_many", self.backend, expected=()):
            return self.driver.delete_many(digests)

    def delete_placed(self, names: Iterable[str]) -> list[str]:
        with storage_timed("delete_many", self.backend, expected=()):
            return self.driver.delete_placed(names)

    def digests(self) -> Iterator[str]:
        with storage_timed("list", self.backend):
            return self.driver.digests()
