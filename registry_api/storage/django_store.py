"""What the blob store drivers share: they sit on a Django storage (the `registry` alias)."""

from __future__ import annotations

import io
from collections.abc import Iterator

from registry_api.storage import READ_CHUNK, BlobStore, blob_path


def _limited(handle, remaining: int | None, chunk_size: int) -> Iterator[bytes]:
    """Read a file object in chunks (up to `remaining` bytes when given), closing it after."""
    with handle:
        while remaining is None or remaining > 0:
            size = chunk_size if remaining is None else min(chunk_size, remaining)
            chunk = handle.read(size)
            if not chunk:
                return
            if remaining is not None:
                remaining -= len(chunk)
            yield chunk


class _ChunkReader(io.RawIOBase):
    """A readable file object over a stream of chunks (an object store's response body)."""

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks = chunks
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            chunk = next(self._chunks, b"")
            if not chunk:
                return 0
            self._pending = memoryview(chunk)
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def close(self) -> None:
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()
        super().close()


def chunk_reader(chunks: Iterator[bytes]):
    """A buffered binary file object reading `chunks` (constant memory: one chunk held)."""
    return io.BufferedReader(_ChunkReader(chunks), READ_CHUNK)


class DjangoBlobStore(BlobStore):
    def __init__(self, storage):
        self.storage = storage

    def exists(self, digest: str) -> bool:
        return self.storage.exists(blob_path(digest))

    def size(self, digest: str) -> int:
        return self.storage.size(blob_path(digest))

    def delete(self, digest: str) -> None:
        self.storage.delete(blob_path(digest))

    def digests(self) -> Iterator[str]:
        try:
            algorithms, _ = self.storage.listdir("blobs")
        except FileNotFoundError:
            return
        for algorithm in algorithms:
            shards, _ = self.storage.listdir(f"blobs/{algorithm}")
            for shard in shards:
                _, files = self.storage.listdir(f"blobs/{algorithm}/{shard}")
                for hex_ in files:
                    if not hex_.startswith("."):  # a put in progress (filesystem)
                        yield f"{algorithm}:{hex_}"
