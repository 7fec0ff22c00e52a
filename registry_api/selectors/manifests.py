"""Reads of manifests: by reference, parsed from their stored bytes, their images (platforms),
their image config, and the referrers of a subject.

An index lists its children's `platform`; a single image's platform is in its config blob, read
from the "registry" storage and cached by digest (content never changes under a digest).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

from hub.names import TAG_RE
from registry_api import lookups
from registry_api import storage as blob_storage
from registry_api.digests import digest_is_valid
from registry_api.manifests import InvalidManifest, ParsedManifest, is_digest, manifest_parse
from registry_api.models import Manifest

logger = logging.getLogger(__name__)

MAX_CONFIG_BYTES = 4 * 1024 * 1024
CONFIG_CACHE_SECONDS = 24 * 3600
# BuildKit indexes list their attestations (provenance, SBOM) as manifests with this platform
# or with this annotation; they are not runnable images.
_UNKNOWN = "unknown"
_REFERENCE_TYPE = "vnd.docker.reference.type"


@dataclass
class Platform:
    """One runnable image of a tag: the manifest itself, or one child of an index."""

    os: str = ""
    architecture: str = ""
    variant: str = ""
    digest: str = ""
    size: int = 0

    def __str__(self) -> str:
        parts = [self.os or "unknown", self.architecture or "unknown"]
        if self.variant:
            parts.append(self.variant)
        return "/".join(parts)


def manifest_get(*, repository, reference: str) -> Manifest | None:
    """The manifest a tag or digest names in this repository, or None (also for bad references)."""
    if repository is None:
        return None
    if is_digest(reference):
        if not digest_is_valid(reference):
            return None
        lookup = {"digest": reference}
    elif TAG_RE.match(reference):
        lookup = {"tags__name": reference}
    else:
        return None
    # Remembered per process, valid until a tag of the repository changes (lookups).
    entry_key = ("manifest", repository.pk, reference)
    current = lookups.tokens([lookups.repository_key(repository.pk)])
    manifest = lookups.remembered(entry_key, current)
    if manifest is not None:
        return manifest
    manifest = Manifest.objects.filter(repository=repository, **lookup).first()
    if manifest is not None and manifest.size <= lookups.MAX_PAYLOAD_BYTES:
        lookups.remember(entry_key, current, manifest)
    return manifest


def manifest_parsed(manifest: Manifest) -> ParsedManifest | None:
    """The stored manifest parsed again (None if it no longer parses: pages must not break)."""
    try:
        return manifest_parse(bytes(manifest.payload), manifest.media_type)
    except (InvalidManifest, ValueError, TypeError):
        logger.warning("unparsable stored manifest %s", manifest.digest)
        return None


def _blob_read(digest: str) -> bytes | None:
    """Up to MAX_CONFIG_BYTES of a blob from the registry storage, or None."""
    try:
        with blob_storage.blobs().open(digest) as handle:
            return handle.read(MAX_CONFIG_BYTES)
    except Exception:  # noqa: BLE001 - a missing or broken blob must not break the page
        logger.warning("config blob %s unreadable", digest, exc_info=True)
    return None


def image_config(digest: str) -> dict[str, Any] | None:
    """The parsed image config JSON of a config digest (None when unavailable)."""
    if not digest:
        return None
    key = f"ui:config:{digest}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    data = _blob_read(digest)
    if data is None:
        return None
    try:
        config = json.loads(data)
    except ValueError:
        return None
    if not isinstance(config, dict):
        return None
    cache.set(key, config, CONFIG_CACHE_SECONDS)
    return config


def manifest_config_digest(manifest: Manifest, parsed: ParsedManifest | None) -> str:
    return manifest.config_digest or (parsed.config.digest if parsed and parsed.config else "")


def _text(mapping: dict, key: str) -> str:
    return str(mapping.get(key) or "")


def manifest_images(manifest: Manifest, parsed: ParsedManifest | None = None) -> list[Platform]:
    """The runnable images of a manifest: one per platform of an index, or the image itself.

    os/architecture are empty when neither the index nor the image's config blob says.
    """
    parsed = parsed or manifest_parsed(manifest)
    if not manifest.is_index:
        config = image_config(manifest_config_digest(manifest, parsed)) or {}
        size = manifest.total_size or (parsed.image_size if parsed else 0)
        return [
            Platform(
                os=_text(config, "os"),
                architecture=_text(config, "architecture"),
                variant=_text(config, "variant"),
                digest=manifest.digest,
                size=size,
            )
        ]
    if parsed is None:
        return []
    # A child's size is its image's size (config + layers), not its descriptor's.
    sizes = {child.digest: child.total_size for child in manifest.children.all()}
    images = []
    for child in parsed.manifests:
        platform = child.platform or {}
        if _UNKNOWN in (platform.get("os"), platform.get("architecture")):
            continue
        if child.annotations.get(_REFERENCE_TYPE):
            continue
        images.append(
            Platform(
                os=_text(platform, "os"),
                architecture=_text(platform, "architecture"),
                variant=_text(platform, "variant"),
                digest=child.digest,
                size=sizes.get(child.digest, 0),
            )
        )
    return images


def manifest_size(manifest: Manifest, images: list[Platform]) -> int:
    """An index weighs what its images weigh; an image its config and layers."""
    if manifest.is_index:
        return sum(image.size for image in images) or manifest.total_size
    return images[0].size if images else manifest.total_size


def referrer_descriptors(*, repository, subject: str, artifact_type: str = "") -> list[dict]:
    """Descriptors of the manifests in this repository whose `subject` is that digest.

    Ordered oldest first; `artifact_type` keeps only those of that type.
    """
    if repository is None:
        return []
    manifests = Manifest.objects.filter(repository=repository, subject_digest=subject).order_by(
        "created_at", "pk"
    )
    descriptors = []
    for manifest in manifests:
        kind = manifest.artifact_type
        if not kind:  # else the config's mediaType, which only the stored bytes hold
            parsed = manifest_parsed(manifest)
            kind = parsed.referrer_artifact_type if parsed else ""
        if artifact_type and kind != artifact_type:
            continue
        descriptor = {
            "mediaType": manifest.media_type,
            "digest": manifest.digest,
            "size": manifest.size,
        }
        if kind:
            descriptor["artifactType"] = kind
        if manifest.annotations:
            descriptor["annotations"] = manifest.annotations
        descriptors.append(descriptor)
    return descriptors
