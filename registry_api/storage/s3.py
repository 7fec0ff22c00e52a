"""Blobs as objects in an S3 bucket through django-storages' S3Storage (boto3).

A put is one streamed, multipart-capable object upload: S3 makes an object visible only once
its upload completes, so readers never see part of one. Reads stream the object body (or a
`Range` of it); django-storages' S3File would download the whole object on first read.

A pushed blob stays where the upload staged it (`Blob.storage_key`, see s3_staging): reads ask
the database for a digest's name once per process and remember it. A blob's name never changes
while its row lives, so a remembered name can only be stale after the blob was collected and
pushed again; a read that finds no object asks once more. Deletes by digest (garbage collection,
orphans) only ever touch content addresses; `delete_placed` removes blobs kept in place.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
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
# Digests whose storage name a process remembers (about 200 bytes each).
NAMES_REMEMBERED = 16384


class _Names:
    """digest → storage name, from the Blob rows, remembered per process (least recent out)."""

    def __init__(self):
        self.names: OrderedDict[str, str] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, digest: str, *, fresh: bool = False) -> tuple[str, bool]:
        """The name (and whether it came from memory)."""
        if not fresh:
            with self.lock:
                name = self.names.get(digest)
                if name is not None:
                    self.names.move_to_end(digest)
                    return name, True
        from registry_api.models import Blob

        kept = Blob.objects.filter(digest=digest).values_list("storage_key", flat=True).first()
        name = kept or blob_path(digest)
        if kept is not None:  # an unknown digest is not remembered: it may be pushed next
            with self.lock:
                self.names[digest] = name
                while len(self.names) > NAMES_REMEMBERED:
                    self.names.popitem(last=False)
        return name, False


def _body_chunks(body) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(READ_CHUNK)
    finally:
        body.close()


class S3BlobStore(DjangoBlobStore):
    def __init__(self, storage):
        super().__init__(storage)
        self.names = _Names()

    def _missing(self, exc: ClientError) -> bool:
        return exc.response.get("Error", {}).get("Code") in _MISSING

    def _at_name(self, digest: str, request: Callable[[str], object]):
        """`request(key)` on the blob's object; FileNotFoundError when there is none."""
        name, remembered = self.names.get(digest)
        while True:
            try:
                return request(self.storage._normalize_name(name))
            except ClientError as exc:
                if not self._missing(exc):
                    raise
                if not remembered:
                    raise FileNotFoundError(digest) from exc
            name, remembered = self.names.get(digest, fresh=True)

    def _body(self, digest: str, byte_range: str | None = None):
        """Open the object body now, so a missing object fails before a response starts."""
        kwargs = {"Range": byte_range} if byte_range else {}
        bucket = self.storage.bucket
        return self._at_name(digest, lambda key: bucket.Object(key).get(**kwargs))["Body"]

    def _head(self, digest: str) -> dict:
        client, bucket = self.storage.bucket.meta.client, self.storage.bucket_name
        return self._at_name(digest, lambda key: client.head_object(Bucket=bucket, Key=key))

    def exists(self, digest: str) -> bool:
        try:
            self._head(digest)
        except FileNotFoundError:
            return False
        return True

    def size(self, digest: str) -> int:
        return self._head(digest)["ContentLength"]

    def open(self, digest: str):
        return self._body(digest)

    def open_local(self, digest: str) -> None:
        return None

    def chunks(self, digest: str) -> Iterator[bytes]:
        return _body_chunks(self._body(digest))

    def range_chunks(self, digest: str, start: int, end: int) -> Iterator[bytes]:
        return _body_chunks(self._body(digest, f"bytes={start}-{end}"))

    def redirect_url(self, digest: str) -> str:
        # Asked afresh: the client fetches it later, a stale name would be its 404.
        return self.storage.url(self.names.get(digest, fresh=True)[0])

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

    def _delete_objects(self, client, names: tuple[str, ...]) -> list[str]:
        """One DeleteObjects request of storage names; those S3 did not delete (deleting a
        missing key is a success in S3)."""
        keys = {self.storage._normalize_name(name): name for name in names}
        try:
            response = client.delete_objects(
                Bucket=self.storage.bucket_name,
                Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True},
            )
        except (BotoCoreError, ClientError) as exc:
            logger.warning("gc: DeleteObjects of %d blobs failed: %s", len(keys), exc)
            return list(names)
        errors = response.get("Errors", [])
        for error in errors[:3]:
            logger.warning("gc: could not delete %s: %s", error.get("Key"), error.get("Message"))
        return [keys[error["Key"]] for error in errors if error.get("Key") in keys]

    def _delete_names(self, names: Iterable[str]) -> list[str]:
        unique = iter(dict.fromkeys(names))
        requests = iter(lambda: tuple(islice(unique, DELETE_OBJECTS_MAX)), ())
        # One client for every thread (boto3 clients are thread-safe; the storage's connection
        # is per thread, so each thread would otherwise build its own).
        client = self.storage.bucket.meta.client
        with ThreadPoolExecutor(max_workers=DELETE_PARALLELISM) as pool:
            results = pool.map(lambda batch: self._delete_objects(client, batch), requests)
            return [failed for failures in results for failed in failures]

    def delete_many(self, digests: Iterable[str]) -> list[str]:
        by_name = {blob_path(digest): digest for digest in digests}
        return [by_name[name] for name in self._delete_names(by_name)]

    def delete_placed(self, names: Iterable[str]) -> list[str]:
        return self._delete_names(name for name in names if name)
