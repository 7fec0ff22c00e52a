"""Blob storage: content-addressed, sharded paths in the `registry` storage alias, and the upload
staging area.

A blob lives at `blobs/<algorithm>/<first two hex>/<hex>`, one copy per digest whatever the
number of repositories that link it. It gets there only after its digest is verified, by an
atomic rename (filesystem) or a single streamed, multipart-capable object PUT (S3), so readers
never see a partial blob. Upload sessions stream to UPLOAD_STAGING_DIR/<uuid>, a directory every
web process must share.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, storages

from registry_api.digests import digest_parse

READ_CHUNK = 1024 * 1024


def registry_storage():
    return storages["registry"]


def is_filesystem() -> bool:
    return isinstance(registry_storage(), FileSystemStorage)


def blob_path(digest: str) -> str:
    """The storage name of a blob: sharded by the first two hex characters."""
    parsed = digest_parse(digest)
    return f"blobs/{parsed.algorithm}/{parsed.hex[:2]}/{parsed.hex}"


def blob_exists(digest: str) -> bool:
    return registry_storage().exists(blob_path(digest))


def blob_size(digest: str) -> int:
    return registry_storage().size(blob_path(digest))


def blob_open(digest: str):
    """A binary file object on the blob (filesystem: a real file, sendfile-able)."""
    storage = registry_storage()
    if isinstance(storage, FileSystemStorage):
        return open(storage.path(blob_path(digest)), "rb")  # noqa: SIM115 - caller closes
    return storage.open(blob_path(digest), "rb")


def _limited(handle, remaining: int | None) -> Iterator[bytes]:
    """Read a file object in chunks (up to `remaining` bytes when given), closing it after."""
    with handle:
        while remaining is None or remaining > 0:
            size = READ_CHUNK if remaining is None else min(READ_CHUNK, remaining)
            chunk = handle.read(size)
            if not chunk:
                return
            if remaining is not None:
                remaining -= len(chunk)
            yield chunk


def _s3_body(storage, name: str, byte_range: str | None):
    """Open the S3 object body now (so a missing object fails before a response starts).

    django-storages' S3File would download the whole object on first read; a GET of the
    object (or of a range of it) streams instead.
    """
    from botocore.exceptions import ClientError

    kwargs = {"Range": byte_range} if byte_range else {}
    try:
        return storage.bucket.Object(storage._normalize_name(name)).get(**kwargs)["Body"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            raise FileNotFoundError(name) from exc
        raise


def _s3_chunks(body) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(READ_CHUNK)
    finally:
        body.close()


def blob_range_chunks(digest: str, start: int, end: int) -> Iterator[bytes]:
    """Stream bytes [start, end] (inclusive) of a blob in constant memory.

    The blob is opened before this returns: FileNotFoundError when its bytes are missing."""
    storage = registry_storage()
    name = blob_path(digest)
    if hasattr(storage, "bucket"):
        return _s3_chunks(_s3_body(storage, name, f"bytes={start}-{end}"))
    handle = blob_open(digest)
    handle.seek(start)
    return _limited(handle, end - start + 1)


def blob_chunks(digest: str) -> Iterator[bytes]:
    """Stream a whole blob (S3: the object body, never a local temporary copy).

    The blob is opened before this returns: FileNotFoundError when its bytes are missing."""
    storage = registry_storage()
    if hasattr(storage, "bucket"):
        return _s3_chunks(_s3_body(storage, blob_path(digest), None))
    return _limited(blob_open(digest), None)


def blob_redirect_url(digest: str) -> str | None:
    """A presigned URL for the blob when the backend can sign one (S3), else None."""
    storage = registry_storage()
    if isinstance(storage, FileSystemStorage) or not hasattr(storage, "bucket"):
        return None
    return storage.url(blob_path(digest))


def blob_store(digest: str, staged: Path) -> None:
    """Move a verified staged file to the blob's place; the staged file is consumed.

    Content-addressed, so when the blob is already stored (a concurrent identical upload won)
    the existing copy is kept and the staged one discarded.
    """
    storage = registry_storage()
    name = blob_path(digest)
    if isinstance(storage, FileSystemStorage):
        target = Path(storage.path(name))
        if target.exists():
            staged.unlink(missing_ok=True)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(staged, target)
        except OSError:
            # Staging on another filesystem: copy beside the target, then rename atomically.
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
            with os.fdopen(fd, "wb") as out, open(staged, "rb") as src:
                shutil.copyfileobj(src, out, READ_CHUNK)
            os.replace(tmp, target)
            staged.unlink(missing_ok=True)
        if storage.file_permissions_mode is not None:
            os.chmod(target, storage.file_permissions_mode)
        return
    if not storage.exists(name):
        with open(staged, "rb") as handle:
            # S3Storage.save streams through boto3's upload_fileobj (multipart when large).
            storage.save(name, File(handle, name=name))
    staged.unlink(missing_ok=True)


def blob_delete(digest: str) -> None:
    """Remove a blob's bytes (garbage collection only: callers checked no link is left)."""
    registry_storage().delete(blob_path(digest))


# Upload staging ------------------------------------------------------------------------------


def staging_dir() -> Path:
    path = Path(settings.UPLOAD_STAGING_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def staging_path(upload_uuid) -> Path:
    return staging_dir() / str(upload_uuid)


def staging_create(upload_uuid) -> Path:
    path = staging_path(upload_uuid)
    path.touch()
    return path


def staging_delete(upload_uuid) -> None:
    staging_path(upload_uuid).unlink(missing_ok=True)


def blob_digests() -> Iterator[str]:
    """Every digest with stored bytes (a storage walk: garbage collection of orphans only)."""
    store = registry_storage()
    try:
        algorithms, _ = store.listdir("blobs")
    except FileNotFoundError:
        return
    for algorithm in algorithms:
        shards, _ = store.listdir(f"blobs/{algorithm}")
        for shard in shards:
            _, files = store.listdir(f"blobs/{algorithm}/{shard}")
            for hex_ in files:
                if not hex_.startswith("."):
                    yield f"{algorithm}:{hex_}"
