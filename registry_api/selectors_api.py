"""Reads of tags for the REST API: one query for a page of tags, platforms from stored payloads.

Platforms come from the manifest itself (an index lists its children's `platform`), so a page
of tags never touches blob storage.
"""

from __future__ import annotations

import json
from typing import Any

from django.db.models import QuerySet

from hub.names import TAG_RE
from registry_api.models import Tag

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

    Each is `{digest, size, os, architecture, variant}`; os/architecture are empty when the
    manifest does not say (a plain image manifest keeps them in its config blob).
    """
    manifest = tag.manifest
    document = _payload(manifest)
    if not manifest.is_index:
        return [
            {
                "digest": manifest.digest,
                "size": manifest.total_size,
                "os": "",
                "architecture": "",
                "variant": "",
            }
        ]
    # A child's size is its image's size (config + layers), not its descriptor's.
    child_sizes = {child.digest: child.total_size for child in manifest.children.all()}
    images = []
    for entry in document.get("manifests") or []:
        if not isinstance(entry, dict):
            continue
        platform = entry.get("platform") if isinstance(entry.get("platform"), dict) else {}
        if platform.get("os") == _UNKNOWN or platform.get("architecture") == _UNKNOWN:
            continue
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
