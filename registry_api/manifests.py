"""Parse and validate manifest bodies: Docker schema 2 and manifest list, OCI manifest and index.

This module is pure (no database, no HTTP): it turns the bytes of a manifest `PUT` into a
`ParsedManifest` or raises `InvalidManifest`. The service decides what the references mean for
a repository (every blob and child present, subject optional).

Sources: OCI image-spec v1.1 `manifest.md`, `image-index.md`, `descriptor.md`; Docker
`manifest-v2-2.md`; distribution's `manifest/schema2`, `manifest/manifestlist` and
`manifest/ocischema`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"

IMAGE_TYPES = (DOCKER_MANIFEST, OCI_MANIFEST)
INDEX_TYPES = (DOCKER_MANIFEST_LIST, OCI_INDEX)
MANIFEST_TYPES = (*IMAGE_TYPES, *INDEX_TYPES)
OCI_TYPES = (OCI_MANIFEST, OCI_INDEX)

# Content-Types that say nothing about the manifest: fall back to the body's `mediaType`.
GENERIC_CONTENT_TYPES = ("", "application/json", "application/octet-stream", "text/plain")

# The algorithms we can verify. Other (syntactically valid) algorithms are refused, since no
# blob or manifest with such a digest can exist here.
# Anchored with \Z, not $ (which also matches before a trailing newline).
DIGEST_RE = re.compile(r"^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})\Z")
# RFC 6838 media type (what artifactType must be); at most 255 characters, like the column.
_RESTRICTED_NAME = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
MEDIA_TYPE_RE = re.compile(rf"^{_RESTRICTED_NAME}/{_RESTRICTED_NAME}\Z")
# Descriptor sizes are int64 (OCI descriptor.md).
MAX_SIZE = 2**63 - 1


class InvalidManifest(ValueError):
    """The body is not a manifest we accept; `detail` goes into the OCI error's detail."""

    def __init__(self, message: str, detail: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    urls: tuple[str, ...] = ()
    annotations: dict[str, str] = field(default_factory=dict)
    artifact_type: str = ""
    platform: dict[str, Any] | None = None


@dataclass(frozen=True)
class ParsedManifest:
    media_type: str
    size: int
    config: Descriptor | None = None
    layers: tuple[Descriptor, ...] = ()
    manifests: tuple[Descriptor, ...] = ()
    subject: Descriptor | None = None
    artifact_type: str = ""
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES

    @property
    def required_blob_digests(self) -> list[str]:
        """Return the blobs that must be in the repository: config and distributable layers.

        A layer with `urls` (Docker foreign layer, OCI non-distributable layer) is fetched from
        those URLs by clients, so the registry need not hold it.
        """
        digests = [self.config.digest] if self.config else []
        digests += [layer.digest for layer in self.layers if not layer.urls]
        return list(dict.fromkeys(digests))

    @property
    def optional_blob_digests(self) -> list[str]:
        """Return layer digests that may be absent (they carry `urls`); linked when present."""
        required = set(self.required_blob_digests)
        return [
            layer.digest for layer in self.layers if layer.urls and layer.digest not in required
        ]

    @property
    def child_digests(self) -> list[str]:
        return list(dict.fromkeys(child.digest for child in self.manifests))

    @property
    def referrer_artifact_type(self) -> str:
        """Return the artifactType a referrers response shows for this manifest.

        OCI distribution-spec: the manifest's artifactType, else its config mediaType; an index
        without artifactType has none.
        """
        if self.artifact_type:
            return self.artifact_type
        if self.config is not None:
            return self.config.media_type
        return ""

    @property
    def image_size(self) -> int:
        """Return config + layer sizes (0 for an index: its size is its children's)."""
        if self.config is None:
            return 0
        return self.config.size + sum(layer.size for layer in self.layers)


def is_digest(reference: str) -> bool:
    """Does this reference look like a digest (as opposed to a tag)? Tags cannot hold ':'."""
    return ":" in reference


def media_type_base(content_type: str | None) -> str:
    """Return the media type of a Content-Type header without parameters, lowercased."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def manifest_parse(body: bytes, content_type: str | None) -> ParsedManifest:
    """Parse and validate a manifest body; raise InvalidManifest with a reason."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidManifest("manifest is not valid JSON", str(exc)) from None
    except RecursionError:
        raise InvalidManifest("manifest is nested too deeply") from None
    if not isinstance(document, dict):
        raise InvalidManifest("manifest must be a JSON object")

    media_type = _media_type_resolve(document, media_type_base(content_type))
    if _strict_int(document.get("schemaVersion")) != 2:
        raise InvalidManifest(
            "schemaVersion must be 2", {"schemaVersion": document.get("schemaVersion")}
        )
    annotations = _annotations(document.get("annotations"), "annotations")
    artifact_type = _artifact_type(document.get("artifactType"), "artifactType")
    subject = None
    if document.get("subject") is not None:
        if media_type not in OCI_TYPES:
            raise InvalidManifest("subject is only defined for OCI manifests and indexes")
        subject = _descriptor(document["subject"], "subject")
    if artifact_type and media_type not in OCI_TYPES:
        raise InvalidManifest("artifactType is only defined for OCI manifests and indexes")

    if media_type in INDEX_TYPES:
        manifests = document.get("manifests")
        if not isinstance(manifests, list):
            raise InvalidManifest("an index needs a manifests array")
        children = tuple(
            _descriptor(
                item, f"manifests[{i}]", platform_required=media_type == DOCKER_MANIFEST_LIST
            )
            for i, item in enumerate(manifests)
        )
        return ParsedManifest(
            media_type=media_type,
            size=len(body),
            manifests=children,
            subject=subject,
            artifact_type=artifact_type,
            annotations=annotations,
        )

    if "manifests" in document:
        raise InvalidManifest("an image manifest has no manifests array")
    config = _descriptor(document.get("config"), "config")
    layers = document.get("layers")
    if not isinstance(layers, list):
        raise InvalidManifest("an image manifest needs a layers array")
    return ParsedManifest(
        media_type=media_type,
        size=len(body),
        config=config,
        layers=tuple(_descriptor(item, f"layers[{i}]") for i, item in enumerate(layers)),
        subject=subject,
        artifact_type=artifact_type,
        annotations=annotations,
    )


def _media_type_resolve(document: dict, content_type: str) -> str:
    """Pick the manifest's media type from Content-Type, else from the body (mismatch: invalid)."""
    declared = document.get("mediaType")
    if declared is not None and not isinstance(declared, str):
        raise InvalidManifest("mediaType must be a string")
    if content_type in MANIFEST_TYPES:
        if declared is not None and declared != content_type:
            raise InvalidManifest(
                "mediaType does not match Content-Type",
                {"mediaType": declared, "contentType": content_type},
            )
        media_type = content_type
    elif content_type in GENERIC_CONTENT_TYPES:
        if declared is not None:
            media_type = declared
        else:
            # OCI makes mediaType optional: tell a manifest from an index by its shape.
            media_type = OCI_INDEX if "manifests" in document else OCI_MANIFEST
    else:
        raise InvalidManifest("unsupported manifest media type", {"contentType": content_type})
    if media_type not in MANIFEST_TYPES:
        raise InvalidManifest("unsupported manifest media type", {"mediaType": media_type})
    if media_type in (DOCKER_MANIFEST, DOCKER_MANIFEST_LIST) and declared != media_type:
        # Docker schema 2 requires mediaType in the body (distribution rejects it otherwise).
        raise InvalidManifest("a Docker manifest must declare its mediaType")
    return media_type


def _strict_int(value: Any) -> int | None:
    # bool is an int in Python; JSON true is not a number.
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def _optional_str(value: Any, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidManifest(f"{where} must be a string")
    return value


def _artifact_type(value: Any, where: str) -> str:
    artifact_type = _optional_str(value, where)
    if artifact_type and not MEDIA_TYPE_RE.fullmatch(artifact_type):
        raise InvalidManifest(
            f"{where} must be a media type", {"artifactType": artifact_type[:300]}
        )
    return artifact_type


def _annotations(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise InvalidManifest(f"{where} must be a map of strings to strings")
    # Stored as JSON: PostgreSQL's jsonb cannot hold NUL characters.
    if any("\x00" in k or "\x00" in v for k, v in value.items()):
        raise InvalidManifest(f"{where} must not contain NUL characters")
    return value


def _descriptor(value: Any, where: str, *, platform_required: bool = False) -> Descriptor:
    if not isinstance(value, dict):
        raise InvalidManifest(f"{where} must be a descriptor object")
    media_type = value.get("mediaType")
    if not isinstance(media_type, str) or not media_type:
        raise InvalidManifest(f"{where}.mediaType is required")
    digest = value.get("digest")
    if not isinstance(digest, str) or not DIGEST_RE.fullmatch(digest):
        raise InvalidManifest(f"{where}.digest is not a valid digest", {"digest": digest})
    size = _strict_int(value.get("size"))
    if size is None or not 0 <= size <= MAX_SIZE:
        raise InvalidManifest(f"{where}.size must be a non-negative 64-bit integer")
    urls = value.get("urls")
    if urls is not None and (
        not isinstance(urls, list) or not all(isinstance(url, str) and url for url in urls)
    ):
        raise InvalidManifest(f"{where}.urls must be a list of URLs")
    platform = value.get("platform")
    if platform is None and platform_required:
        raise InvalidManifest(f"{where}.platform is required in a manifest list")
    if platform is not None:
        _platform_check(platform, f"{where}.platform")
    return Descriptor(
        media_type=media_type,
        digest=digest,
        size=size,
        urls=tuple(urls or ()),
        annotations=_annotations(value.get("annotations"), f"{where}.annotations"),
        artifact_type=_artifact_type(value.get("artifactType"), f"{where}.artifactType"),
        platform=platform,
    )


def _platform_check(platform: Any, where: str) -> None:
    if not isinstance(platform, dict):
        raise InvalidManifest(f"{where} must be an object")
    for key in ("architecture", "os"):
        if not isinstance(platform.get(key), str) or not platform[key]:
            raise InvalidManifest(f"{where}.{key} is required")
    for key in ("variant", "os.version"):
        if key in platform and not isinstance(platform[key], str):
            raise InvalidManifest(f"{where}.{key} must be a string")
    for key in ("features", "os.features"):
        if key in platform and (
            not isinstance(platform[key], list)
            or not all(isinstance(item, str) for item in platform[key])
        ):
            raise InvalidManifest(f"{where}.{key} must be a list of strings")
