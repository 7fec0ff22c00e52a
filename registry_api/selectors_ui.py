"""Reads for the web UI's tag pages: sizes, platforms, layers and the image config.

Manifests are parsed from their stored payload; the config blob is read from the "registry"
storage (small JSON, cached by digest since content never changes under a digest).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db.models import QuerySet

from registry_api import storage as blob_storage
from registry_api.manifests import InvalidManifest, ParsedManifest, manifest_parse
from registry_api.models import Manifest, Tag

logger = logging.getLogger(__name__)

MAX_CONFIG_BYTES = 4 * 1024 * 1024
CONFIG_CACHE_SECONDS = 24 * 3600


@dataclass
class Platform:
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


@dataclass
class TagRow:
    tag: Tag
    digest: str
    size: int
    platforms: list[Platform]
    is_index: bool


@dataclass
class Layer:
    digest: str
    size: int
    media_type: str
    command: str = ""


@dataclass
class ImageDetail:
    manifest: Manifest
    platform: Platform
    layers: list[Layer] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    config_available: bool = False


@dataclass
class TagDetail:
    row: TagRow
    image: ImageDetail | None


def _parse(manifest: Manifest) -> ParsedManifest | None:
    try:
        return manifest_parse(bytes(manifest.payload), manifest.media_type)
    except (InvalidManifest, ValueError, TypeError):
        logger.warning("unparsable stored manifest %s", manifest.digest)
        return None


def _blob_read(digest: str) -> bytes | None:
    """Return up to MAX_CONFIG_BYTES of a blob from the registry storage, or None."""
    try:
        with blob_storage.blobs().open(digest) as handle:
            return handle.read(MAX_CONFIG_BYTES)
    except Exception:  # noqa: BLE001 - a missing or broken blob must not break the page
        logger.warning("config blob %s unreadable", digest, exc_info=True)
    return None


def image_config(digest: str) -> dict[str, Any] | None:
    """Return the parsed image config JSON for a config digest (None when unavailable)."""
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


def _image_platform(manifest: Manifest, parsed: ParsedManifest | None) -> Platform:
    config = image_config(
        manifest.config_digest or (parsed.config.digest if parsed and parsed.config else "")
    )
    config = config or {}
    return Platform(
        os=str(config.get("os", "")),
        architecture=str(config.get("architecture", "")),
        variant=str(config.get("variant", "")),
        digest=manifest.digest,
        size=manifest.total_size,
    )


def _index_platforms(manifest: Manifest, parsed: ParsedManifest | None) -> list[Platform]:
    if parsed is None:
        return []
    sizes = dict(
        Manifest.objects.filter(
            repository_id=manifest.repository_id, digest__in=parsed.child_digests
        ).values_list("digest", "total_size")
    )
    platforms = []
    for child in parsed.manifests:
        platform = child.platform or {}
        if platform.get("os") == "unknown" or child.annotations.get("vnd.docker.reference.type"):
            continue  # attestation manifests (buildx provenance/SBOM), not runnable images
        platforms.append(
            Platform(
                os=str(platform.get("os", "")),
                architecture=str(platform.get("architecture", "")),
                variant=str(platform.get("variant", "")),
                digest=child.digest,
                size=sizes.get(child.digest, 0),
            )
        )
    return platforms


def tag_row(tag: Tag) -> TagRow:
    manifest = tag.manifest
    parsed = _parse(manifest)
    if manifest.is_index:
        platforms = _index_platforms(manifest, parsed)
        size = sum(platform.size for platform in platforms) or manifest.total_size
    else:
        platforms = [_image_platform(manifest, parsed)]
        size = manifest.total_size or (parsed.image_size if parsed else 0)
    platforms = [p for p in platforms if p.os or p.architecture] or []
    return TagRow(
        tag=tag, digest=manifest.digest, size=size, platforms=platforms, is_index=manifest.is_index
    )


def tag_queryset(*, repository) -> QuerySet[Tag]:
    return (
        Tag.objects.filter(repository=repository)
        .select_related("manifest", "pushed_by")
        .order_by("-pushed_at", "name")
    )


def tag_list_ui(*, repository, limit: int | None = None) -> list[TagRow]:
    """Return the repository's tags, newest first, with digest, size and platforms."""
    tags = tag_queryset(repository=repository)
    if limit is not None:
        tags = tags[:limit]
    return [tag_row(tag) for tag in tags]


def tag_get(*, repository, name: str) -> Tag | None:
    return tag_queryset(repository=repository).filter(name=name).first()


def _layers(parsed: ParsedManifest, history: list[dict[str, Any]]) -> list[Layer]:
    commands = [
        str(entry.get("created_by", "")) for entry in history if not entry.get("empty_layer")
    ]
    layers = []
    for position, descriptor in enumerate(parsed.layers):
        command = commands[position] if position < len(commands) else ""
        layers.append(
            Layer(
                digest=descriptor.digest,
                size=descriptor.size,
                media_type=descriptor.media_type,
                command=command,
            )
        )
    return layers


def image_detail(*, manifest: Manifest, platform: Platform | None = None) -> ImageDetail | None:
    """Return layers, config and history of an image manifest (None for an unparsable one)."""
    parsed = _parse(manifest)
    if parsed is None or parsed.is_index:
        return None
    config_digest = manifest.config_digest or (parsed.config.digest if parsed.config else "")
    config = image_config(config_digest)
    history = [entry for entry in (config or {}).get("history") or [] if isinstance(entry, dict)]
    return ImageDetail(
        manifest=manifest,
        platform=platform or _image_platform(manifest, parsed),
        layers=_layers(parsed, history),
        config=(config or {}).get("config") or {},
        history=history,
        config_available=config is not None,
    )


def tag_detail(*, tag: Tag, platform_digest: str = "") -> TagDetail:
    """Return a tag's row and the detail of one image: the chosen platform of an index."""
    row = tag_row(tag)
    manifest = tag.manifest
    if not row.is_index:
        return TagDetail(
            row=row,
            image=image_detail(
                manifest=manifest, platform=row.platforms[0] if row.platforms else None
            ),
        )
    chosen = next((p for p in row.platforms if p.digest == platform_digest), None)
    chosen = chosen or (row.platforms[0] if row.platforms else None)
    if chosen is None:
        return TagDetail(row=row, image=None)
    child = Manifest.objects.filter(
        repository_id=manifest.repository_id, digest=chosen.digest
    ).first()
    image = image_detail(manifest=child, platform=chosen) if child else None
    return TagDetail(row=row, image=image)
