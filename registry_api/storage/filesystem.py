"""Blobs as files under the `registry` FileSystemStorage location.

A put renames the verified file into place (or, from another filesystem, copies it beside the
target and renames that): a reader sees the whole blob or none of it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from registry_api.storage import (
    FULL_ERRNOS,
    READ_CHUNK,
    StorageUnavailable,
    blob_path,
    delete_in_parallel,
)
from registry_api.storage.django_store import DjangoBlobStore, _limited


class FileSystemBlobStore(DjangoBlobStore):
    def _path(self, digest: str) -> Path:
        return Path(self.storage.path(blob_path(digest)))

    def open(self, digest: str) -> BinaryIO:
        return open(self._path(digest), "rb")  # noqa: SIM115 - the caller closes it

    def open_local(self, digest: str) -> BinaryIO:
        return self.open(digest)

    def chunks(self, digest: str) -> Iterator[bytes]:
        return _limited(self.open(digest), None, READ_CHUNK)

    def range_chunks(self, digest: str, start: int, end: int) -> Iterator[bytes]:
        handle = self.open(digest)
        handle.seek(start)
        return _limited(handle, end - start + 1, READ_CHUNK)

    def delete_many(self, digests: Iterable[str]) -> list[str]:
        # Unlinks wait on the disk, not the CPU: threads overlap them.
        return delete_in_parallel(
            digests, lambda digest: self._path(digest).unlink(missing_ok=True), OSError
        )

    def redirect_url(self, digest: str) -> None:
        return None

    def put_verified(self, digest: str, staged: Path) -> None:
        target = self._path(digest)
        if target.exists():
            staged.unlink(missing_ok=True)
            return
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.replace(staged, target)
            except OSError as exc:
                if exc.errno in FULL_ERRNOS:
                    raise
                self._copy_into_place(staged, target)
                staged.unlink(missing_ok=True)
        except OSError as exc:
            if exc.errno in FULL_ERRNOS:
                raise StorageUnavailable(f"blob storage is full: {exc.strerror}") from exc
            raise
        if self.storage.file_permissions_mode is not None:
            os.chmod(target, self.storage.file_permissions_mode)

    @staticmethod
    def _copy_into_place(staged: Path, target: Path) -> None:
        """Staging on another filesystem: copy beside the target, then rename atomically."""
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out, open(staged, "rb") as source:
                shutil.copyfileobj(source, out, READ_CHUNK)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
