"""What the tag pages show: a row per tag (digest, size, platforms) and one image's layers,
config and history. Shaped here from the registry's reads (registry_api.selectors)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from registry_api.models import Manifest, Tag
from registry_api.selectors.manifests import (
    Platform,
    image_config,
    manifest_config_digest,
    manifest_get,
    manifest_images,
    manifest_parsed,
    manifest_size,
)
from registry_api.selectors.tags import tag_list


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


def tag_row(tag: Tag) -> TagRow:
    manifest = tag.manifest
    images = manifest_images(manifest)
    return TagRow(
        tag=tag,
        digest=manifest.digest,
        size=manifest_size(manifest, images),
        # An image whose config is unreadable has no platform to show.
        platforms=[image for image in images if image.os or image.architecture],
        is_index=manifest.is_index,
    )


@dataclass
class CardFacts:
    """What a search or explore card shows of a repository's images, as Hub's cards do."""

    tag_count: int
    latest: TagRow | None  # `latest`, else the newest tag


def card_facts(repository) -> CardFacts:
    tags = tag_list(repository=repository)
    count = tags.count()
    if not count:
        return CardFacts(tag_count=0, latest=None)
    latest = tags.filter(name="latest").first() or tags.first()
    return CardFacts(tag_count=count, latest=tag_row(latest))


def tag_rows(*, repository) -> list[TagRow]:
    """The repository's tags, newest first, with digest, size and platforms."""
    return [tag_row(tag) for tag in tag_list(repository=repository)]


def _layers(parsed, history: list[dict[str, Any]]) -> list[Layer]:
    commands = [
        str(entry.get("created_by", "")) for entry in history if not entry.get("empty_layer")
    ]
    return [
        Layer(
            digest=descriptor.digest,
            size=descriptor.size,
            media_type=descriptor.media_type,
            command=commands[position] if position < len(commands) else "",
        )
        for position, descriptor in enumerate(parsed.layers)
    ]


def image_detail(*, manifest: Manifest, platform: Platform | None = None) -> ImageDetail | None:
    """Layers, config and history of an image manifest (None for an unparsable one)."""
    parsed = manifest_parsed(manifest)
    if parsed is None or parsed.is_index:
        return None
    config = image_config(manifest_config_digest(manifest, parsed))
    history = [entry for entry in (config or {}).get("history") or [] if isinstance(entry, dict)]
    return ImageDetail(
        manifest=manifest,
        platform=platform or manifest_images(manifest, parsed)[0],
        layers=_layers(parsed, history),
        config=(config or {}).get("config") or {},
        history=history,
        config_available=config is not None,
    )


def tag_detail(*, tag: Tag, platform_digest: str = "") -> TagDetail:
    """A tag's row and the detail of one image: the chosen platform of an index."""
    row = tag_row(tag)
    if not row.is_index:
        platform = row.platforms[0] if row.platforms else None
        return TagDetail(row=row, image=image_detail(manifest=tag.manifest, platform=platform))
    chosen = next((p for p in row.platforms if p.digest == platform_digest), None)
    chosen = chosen or (row.platforms[0] if row.platforms else None)
    if chosen is None:
        return TagDetail(row=row, image=None)
    child = manifest_get(repository=tag.repository, reference=chosen.digest)
    image = image_detail(manifest=child, platform=chosen) if child else None
    return TagDetail(row=row, image=image)
