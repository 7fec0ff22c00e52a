"""Reads of tags for the REST API: one query for a page of tags, platforms from stored payloads.

An index lists its children's `platform`; a single image's platform is in its config blob, read
once per digest and cached (registry_api.selectors_ui.image_config).
"""

from __future__ import annotations

import json
from typing import Any

from django.db.models import QuerySet

from hub.names import TAG_RE
from registry_api.models import Tag
from registry_api.selectors_ui import image_config

# Attestation manifests in BuildKit indexes carry this placeholder platform.
_UNKNOWN = "unknown"


def tag_list(*, repository) -> QuerySet[Tag]:
    """Tags of a repository, most recently pushed first."""
    return (
        Tag.objects.filter(repository=repository)
        .select_related("manifest", "pushed_by")
        .prefetch_related("manifest__children")
        .order_by("-pushed_at", "name")
    )


def tag_get(*, repository, name: str) -> Tag | None:
    if not TAG_RE.match(name):
        return None
    return tag_list(repository=repository).filter(name=name).first()


def _payload(manifest) -> dict[str, Any]:
    try:
        document = json.loads(bytes(manifest.payload))
    except (ValueError, TypeError):
        return {}
    return document if isinstance(document, dict) else {}


def tag_images(*, tag: Tag) -> list[dict[str, Any]]:
    """The images a tag points at: one per platform of an index, or the manifest itself.

    Each is `{digest, size, os, architecture, variant}`; os/architecture are empty when
    neither the index nor the image's config blob says.
    """
    manifest = tag.manifest
    if not manifest.is_index:
        # The config blob holds the platform; image_config caches it by digest.
        config = image_config(manifest.config_digest) if manifest.config_digest else None
        config = config or {}
        return [
            {
                "digest": manifest.digest,
                "size": manifest.total_size,
                "os": str(config.get("os") or ""),
                "architecture": str(config.get("architecture") or ""),
                "variant": str(config.get("variant") or ""),
            }
        ]
    # A child's size is its image's size (config + layers), not its descriptor's.
    child_sizes = {child.digest: child.total_size for child in manifest.children.all()}
    images = []
    for entry in _payload(manifest).get("manifests") or []:
        if not isinstance(entry, dict):
            continue
        platform = entry.get("platform") if isinstance(entry.get("platform"), dict) else {}
        annotations = entry.get("annotations") if isinstance(entry.get("annotations"), dict) else {}
        if _UNKNOWN in (platform.get("os"), platform.get("architecture")) or annotations.get(
            "vnd.docker.reference.type"
        ):
            continue  # attestations (provenance, SBOM), not runnable images
        digest = str(entry.get("digest") or "")
        images.append(
            {
                "digest": digest,
                "size": child_sizes.get(digest, 0),
                "os": str(platform.get("os") or ""),
                "architecture": str(platform.get("architecture") or ""),
                "variant": str(platform.get("variant") or ""),
            }
        )
    return images


def tag_size(*, tag: Tag, images: list[dict[str, Any]]) -> int:
    """An index weighs what its images weigh; an image its config and layers."""
    if tag.manifest.is_index:
        return sum(image["size"] for image in images) or tag.manifest.total_size
    return tag.manifest.total_size
