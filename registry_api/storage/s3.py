"""Blobs as objects in an S3 bucket through django-storages' S3Storage (boto3).

A put is one streamed, multipart-capable object upload: S3 makes an object visible only once
its upload completes, so readers never see part of one. Reads stream the object body (or a
`Range` of it); django-storages' S3File would download the whole object on first read.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError
from django.core.files import File

from registry_api.storage import DELETE_PARALLELISM, READ_CHUNK, StorageUnavailable, blob_path
from registry_api.storage.django_store import DjangoBlobStore

logger = logging.getLogger(__name__)
_MISSING = ("NoSuchKey", "404", "NotFound")
# S3 DeleteObjects takes at most 1000 keys per request.
DELETE_OBJECTS_MAX = 1000


def _body_chunks(body) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(READ_CHUNK)
    finally:
        body.close()


class S3BlobStore(DjangoBlobStore):
    def _body(self, digest: str, byte_range: str | None = None):
        """Open the object body now, so a missing object fails before a response starts."""
        kwargs = {"Range": byte_range} if byte_range else {}
        name = self.storage._normalize_name(blob_path(digest))
        try:
            return self.storage.bucket.Object(name).get(**kwargs)["Body"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                raise FileNotFoundError(digest) from exc
            raise

    def open(self, digest: str):
        return self._body(digest)

    def open_local(self, digest: str) -> None:
        return None

    def chunks(self, digest: str) -> Iterator[bytes]:
        return _body_chunks(self._body(digest))

    def range_chunks(self, digest: str, start: int, end: int) -> Iterator[bytes]:
        return _body_chunks(self._body(digest, f"bytes={start}-{end}"))

    def redirect_url(self, digest: str) -> str:
        return self.storage.url(blob_path(digest))

    def put_verified(self, digest: str, staged: Path) -> None:
        name = blob_path(digest)
        try:
            if not self.storage.exists(name):
                with open(staged, "rb") as handle:
                    # S3Storage.save streams through boto3's upload_fileobj (multipart when large).
                    self.storage.save(name, File(handle, name=name))
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable(f"the object store refused the blob: {exc}") from exc
        staged.unlink(missing_ok=True)

    def _delete_objects(self, client, digests: tuple[str, ...]) -> list[str]:
        """One DeleteObjects request; the digests S3 did not delete (deleting a missing key is
        a success in S3)."""
        keys = {self.storage._normalize_name(blob_path(digest)): digest for digest in digests}
        try:
            response = client.delete_objects(
                Bucket=self.storage.bucket_name,
                Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True},
            )
        except (BotoCoreError, ClientError) as exc:
            logger.warning("gc: DeleteObjects of %d blobs failed: %s", len(keys), exc)
            return list(digests)
        errors = response.get("Errors", [])
        for error in errors[:3]:
            logger.warning("gc: could not delete %s: %s", error.get("Key"), error.get("Message"))
        return [keys[error["Key"]] for error in errors if error.get("Key") in keys]

    def delete_many(self, digests: Iterable[str]) -> list[str]:
        unique = iter(dict.fromkeys(digests))
        requests = iter(lambda: tuple(islice(unique, DELETE_OBJECTS_MAX)), ())
        # One client for every thread (boto3 clients are thread-safe; the storage's connection
        # is per thread, so each thread would otherwise build its own).
        client = self.storage.bucket.meta.client
        with ThreadPoolExecutor(max_workers=DELETE_PARALLELISM) as pool:
            results = pool.map(lambda batch: self._delete_objects(client, batch), requests)
            return [failed for failures in results for failed in failures]
