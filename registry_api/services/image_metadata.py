"""After a push by tag, fill the repository's description, links and licence from the image's
OCI annotations (hub.services.image_metadata has the rules about whose value wins).

This runs in a Celery task after the push commits, not in the manifest PUT: `docker build`
writes `LABEL`s into the image config blob, not into the manifest, and reading that blob from
storage (S3, say) must neither slow a push down nor fail it. Annotations are read, lowest
precedence first, from the image config's `config.Labels`, the image manifest's annotations and,
for an index, the index's annotations; an index's image is its linux/amd64 one, else its first.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction

from config.celery import app
from hub.services.image_metadata import PREFIX, repository_metadata_apply
from registry_api.models import Manifest
from registry_api.selectors.compare import DEFAULT_PLATFORM
from registry_api.selectors.manifests import (
    image_config,
    manifest_config_digest,
    manifest_images,
    manifest_parsed,
)

logger = logging.getLogger(__name__)


def _strings(mapping) -> dict[str, str]:
    if not isinstance(mapping, dict):
        return {}
    return {key: value for key, value in mapping.items() if isinstance(value, str)}


def _index_image(index: Manifest) -> Manifest | None:
    images = manifest_images(index)
    chosen = next((image for image in images if str(image) == DEFAULT_PLATFORM), None)
    chosen = chosen or (images[0] if images else None)
    if chosen is None:
        return None
    return Manifest.objects.filter(repository_id=index.repository_id, digest=chosen.digest).first()


def image_annotations(manifest: Manifest) -> dict[str, str]:
    """The `org.opencontainers.image.*` annotations and labels of an image or index, merged."""
    image = _index_image(manifest) if manifest.is_index else manifest
    merged: dict[str, str] = {}
    if image is not None and not image.is_index:
        config = image_config(manifest_config_digest(image, manifest_parsed(image))) or {}
        settings = config.get("config")
        merged.update(_strings(settings.get("Labels") if isinstance(settings, dict) else None))
        merged.update(_strings(image.annotations))
    if manifest.is_index:
        merged.update(_strings(manifest.annotations))
    return {key: value for key, value in merged.items() if key.startswith(PREFIX)}


def image_metadata_record(*, manifest_id: int, pushed_at: datetime) -> list[str]:
    """Apply a pushed manifest's annotations to its repository; return the fields changed."""
    manifest = Manifest.objects.filter(pk=manifest_id).first()
    # Deleted since the push, or a referrer (a signature, an SBOM): it describes another
    # manifest, not the repository.
    if manifest is None or manifest.subject_digest:
        return []
    annotations = image_annotations(manifest)
    if not annotations:
        return []
    return repository_metadata_apply(
        repository_id=manifest.repository_id, annotations=annotations, pushed_at=pushed_at
    )


def _enqueue(manifest_id: int, pushed_at: datetime) -> None:
    from registry_api.tasks import image_metadata_read

    arguments = (manifest_id, pushed_at.isoformat())
    if app.conf.task_always_eager:
        image_metadata_read.apply_async(arguments)
        return
    # Tried once: a push must not wait out the broker client's reconnect schedule. Metadata is
    # a convenience; the next push fills it if this one's task is lost.
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_max=0.2)
            image_metadata_read.apply_async(arguments, connection=connection, retry=False)
    except Exception:  # noqa: BLE001 - any broker error: skip, never fail the push
        logger.warning("could not queue the image metadata of manifest %s", manifest_id)


def image_metadata_enqueue(*, manifest: Manifest, pushed_at: datetime) -> None:
    """Queue the metadata read of a manifest pushed by tag, once the push commits."""
    transaction.on_commit(lambda: _enqueue(manifest.pk, pushed_at))
