"""What both blob store drivers share: they sit on a Django storage (the `registry` alias)."""

from __future__ import annotations

from collections.abc import Iterator

from registry_api.storage import BlobStore, blob_path


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
