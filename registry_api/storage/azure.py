"""Blobs as block blobs in an Azure Blob Storage container, configured through django-storages'
AzureStorage (azure-storage-blob).

A put uploads the staged file as one Put Blob or as staged blocks committed by one Put Block
List: Azure makes a blob visible only when it is committed, so readers never see part of one
(uncommitted blocks of a failed put expire on their own). `overwrite=False` keeps the copy
already there when two uploads of one digest race. Reads stream the download (or a range of
it) in chunks; AzureStorage's file would spool the whole blob first. Redirects are SAS URLs
signed with the account key (from the connection string).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from azure.core.exceptions import AzureError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobServiceClient, ContentSettings

from registry_api.storage import (
    READ_CHUNK,
    StorageUnavailable,
    blob_path,
    delete_in_parallel,
)
from registry_api.storage.django_store import DjangoBlobStore, chunk_reader

# Bytes a download holds at once: its first request and each later chunk (the SDK's defaults,
# 32 MiB and 4 MiB, would hold 32 MiB per open blob).
DOWNLOAD_CHUNK = 4 * READ_CHUNK


def _downloaded_chunks(download) -> Iterator[bytes]:
    yield from download.chunks()


class AzureBlobStore(DjangoBlobStore):
    def __init__(self, storage):
        super().__init__(storage)
        self._container_client = None

    @property
    def container(self):
        """The container client (thread-safe, shared), built with bounded download sizes when
        the storage is configured by connection string (AZURE_CONNECTION_STRING)."""
        if self._container_client is None:
            storage = self.storage
            if storage.connection_string:
                service = BlobServiceClient.from_connection_string(
                    storage.connection_string,
                    max_single_get_size=DOWNLOAD_CHUNK,
                    max_chunk_get_size=DOWNLOAD_CHUNK,
                    connection_timeout=storage.timeout,
                    **storage.client_options,
                )
                self._container_client = service.get_container_client(storage.azure_container)
            else:
                self._container_client = storage.client
        return self._container_client

    def _blob(self, digest: str):
        return self.container.get_blob_client(self.storage._get_valid_path(blob_path(digest)))

    def exists(self, digest: str) -> bool:
        return self._blob(digest).exists()

    def size(self, digest: str) -> int:
        try:
            return self._blob(digest).get_blob_properties().size
        except ResourceNotFoundError as exc:
            raise FileNotFoundError(digest) from exc

    def _download(self, digest: str, offset: int | None = None, length: int | None = None):
        """Start the download now, so a missing blob fails before a response starts."""
        try:
            return self._blob(digest).download_blob(offset=offset, length=length)
        except ResourceNotFoundError as exc:
            raise FileNotFoundError(digest) from exc

    def open(self, digest: str) -> BinaryIO:
        return chunk_reader(self.chunks(digest))

    def open_local(self, digest: str) -> None:
        return None

    def chunks(self, digest: str) -> Iterator[bytes]:
        return _downloaded_chunks(self._download(digest))

    def range_chunks(self, digest: str, start: int, end: int) -> Iterator[bytes]:
        return _downloaded_chunks(self._download(digest, start, end - start + 1))

    def redirect_url(self, digest: str) -> str | None:
        """A read-only SAS URL, when there is an account key (or a token credential) to sign
        with."""
        storage = self.storage
        if not (storage.account_key or storage.token_credential):
            return None
        return storage.url(blob_path(digest), expire=storage.expiration_secs or 600)

    def put_verified(self, digest: str, staged: Path) -> None:
        blob = self._blob(digest)
        with open(staged, "rb") as handle:
            size = staged.stat().st_size
            try:
                if not blob.exists():
                    blob.upload_blob(
                        handle,
                        length=size,
                        overwrite=False,
                        max_concurrency=self.storage.upload_max_conn,
                        content_settings=ContentSettings(content_type="application/octet-stream"),
                        timeout=self.storage.timeout,
                    )
            except ResourceExistsError:
                pass  # a racing upload of the same digest committed first: keep that copy
            except AzureError as exc:
                raise StorageUnavailable(f"Azure refused the blob: {exc}") from exc
        staged.unlink(missing_ok=True)

    def delete(self, digest: str) -> None:
        with contextlib.suppress(ResourceNotFoundError):
            self._blob(digest).delete_blob()

    def delete_many(self, digests: Iterable[str]) -> list[str]:
        # One DELETE per blob, overlapped on threads (the container client is thread-safe).
        return delete_in_parallel(digests, self.delete, AzureError)

    def digests(self) -> Iterator[str]:
        """A paged listing walk of `blobs/` (the SDK fetches one page of names at a time)."""
        prefix = self.storage._get_valid_path("blobs") + "/"
        try:
            for item in self.container.list_blobs(name_starts_with=prefix):
                parts = item.name[len(prefix) :].split("/")
                if len(parts) == 3:
                    yield f"{parts[0]}:{parts[2]}"
        except ResourceNotFoundError:  # no container yet: nothing stored
            return
