"""Upload staging in a directory every web process shares: one file per session,
`<directory>/<upload id>`, locked with `flock` while a request writes to it (the kernel drops
the lock if the process dies). Subdirectories belong to other features (the mirror's fetches).
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from registry_api.storage import (
    FULL_ERRNOS,
    READ_CHUNK,
    BlobStore,
    StagedUpload,
    StagingBusy,
    StagingMissing,
    StorageUnavailable,
    UploadStaging,
)


@contextmanager
def _full_disk_is_unavailable():
    try:
        yield
    except OSError as exc:
        if exc.errno in FULL_ERRNOS:
            raise StorageUnavailable(f"upload staging is full: {exc.strerror}") from exc
        raise


class FileSystemStagedUpload(StagedUpload):
    def __init__(self, path: Path, handle):
        self.path = path
        self.handle = handle

    def append(self, offset: int, chunks: Iterable[bytes]) -> int:
        handle = self.handle
        handle.seek(offset)
        try:
            with _full_disk_is_unavailable():
                for data in chunks:
                    view = memoryview(data)
                    while view:  # an unbuffered write may take only part of the chunk
                        view = view[handle.write(view) :]
        except BaseException:
            # Drop what this append wrote; shrinking a file needs no free space.
            handle.truncate(offset)
            raise
        end = handle.tell()
        handle.truncate()
        return end

    def chunks(self) -> Iterator[bytes]:
        with open(self.path, "rb") as handle:
            while chunk := handle.read(READ_CHUNK):
                yield chunk

    def finalize(self, digest: str, store: BlobStore) -> str:
        store.put_verified(digest, self.path)
        return ""


class FileSystemStaging(UploadStaging):
    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def _path(self, upload_id) -> Path:
        return self.directory / str(upload_id)

    def create(self, upload_id) -> None:
        with _full_disk_is_unavailable():
            self.directory.mkdir(parents=True, exist_ok=True)
            self._path(upload_id).touch()

    @contextmanager
    def locked(self, upload_id) -> Iterator[FileSystemStagedUpload]:
        path = self._path(upload_id)
        try:
            handle = open(path, "r+b", buffering=0)  # noqa: SIM115 - closed below
        except FileNotFoundError as exc:
            raise StagingMissing(str(upload_id)) from exc
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise StagingBusy(str(upload_id)) from exc
            yield FileSystemStagedUpload(path, handle)

    def abort(self, upload_id) -> None:
        self._path(upload_id).unlink(missing_ok=True)

    def purge(self, *, keep: set[str], older_than: datetime) -> int:
        if not self.directory.exists():
            return 0
        removed = 0
        cutoff = older_than.timestamp()
        for path in self.directory.iterdir():
            if path.is_file() and path.name not in keep and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
        return removed
