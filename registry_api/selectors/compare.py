"""Compare two tags or digests of one repository: their layers, their image configs and (when a
package source knows them) their packages.

An index is compared one platform at a time: the one asked for, else linux/amd64 when both
sides have it, else the first platform they share (else each side's first image). Config blobs
come from the registry storage through selectors.manifests.image_config, which reads at most
MAX_CONFIG_BYTES and caches by digest.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from registry_api.models import Manifest
from registry_api.selectors.compare_packages import packages_for
from registry_api.selectors.manifests import (
    Platform,
    image_config,
    manifest_config_digest,
    manifest_get,
    manifest_images,
    manifest_parsed,
)

DEFAULT_PLATFORM = "linux/amd64"
PLATFORM_RE = re.compile(r"^[a-z0-9._-]{1,40}/[a-z0-9._-]{1,40}(?:/[a-z0-9._-]{1,40})?\Z")
MAX_REFERENCE_LENGTH = 200

PackageSource = Callable[[Manifest], "dict[str, str] | None"]


class ComparisonInvalid(ValueError):
    """A reference or platform that names nothing comparable; `errors` is field → message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass
class Side:
    """One end of a comparison: what the reference names and the image compared for it."""

    reference: str
    manifest: Manifest
    image: Manifest
    platform: Platform
    config: dict[str, Any]

    def summary(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "digest": self.manifest.digest,
            "media_type": self.manifest.media_type,
            "image_digest": self.image.digest,
            "platform": str(self.platform) if self.platform.os else "",
            "size": self.platform.size or self.image.total_size,
            "config_available": bool(self.config),
        }


def _manifest_resolve(repository, reference: str, field: str) -> Manifest:
    manifest = None
    if 0 < len(reference) <= MAX_REFERENCE_LENGTH:
        manifest = manifest_get(repository=repository, reference=reference)
    if manifest is None:
        raise ComparisonInvalid({field: _("No tag or digest of this repository has that name.")})
    return manifest


def _platform_pick(sides: list[list[Platform]], requested: str) -> str:
    """The platform to compare: the requested one, else a lone image's (against an index),
    else the default, else the first the indexes share."""
    if requested:
        return requested
    offered = [[str(image) for image in images] for images in sides if len(images) > 1]
    if not offered:
        return ""
    shared = [name for name in offered[0] if all(name in other for other in offered[1:])]
    lone = [str(images[0]) for images in sides if len(images) == 1 and images[0].os]
    for name in [*lone, DEFAULT_PLATFORM]:
        if name in shared:
            return name
    return shared[0] if shared else ""


def _image_of(images: list[Platform], platform: str, field: str) -> Platform:
    """The image of that platform among a side's images (a lone image stands for any)."""
    if not images:
        raise ComparisonInvalid({field: _("That reference holds no image to compare.")})
    if len(images) == 1 or not platform:
        return images[0]
    for image in images:
        if str(image) == platform:
            return image
    raise ComparisonInvalid(
        {
            "platform": _("The %(side)s image has no %(platform)s platform.")
            % {"side": field, "platform": platform}
        }
    )


def _side(repository, reference, manifest, images, platform, field) -> Side:
    chosen = _image_of(images, platform, field)
    image = manifest
    if manifest.is_index:
        image = Manifest.objects.filter(repository=repository, digest=chosen.digest).first()
        if image is None:
            raise ComparisonInvalid({field: _("That reference holds no image to compare.")})
    config = image_config(manifest_config_digest(image, manifest_parsed(image))) or {}
    return Side(reference=reference, manifest=manifest, image=image, platform=chosen, config=config)


def _layers(manifest: Manifest) -> list[dict[str, Any]]:
    parsed = manifest_parsed(manifest)
    layers = {}
    for layer in parsed.layers if parsed else ():
        layers.setdefault(
            layer.digest,
            {"digest": layer.digest, "size": layer.size, "media_type": layer.media_type},
        )
    return list(layers.values())


def layers_compare(old: Manifest, new: Manifest) -> dict[str, Any]:
    """Shared, added and removed layers (by digest, in image order) and their sizes."""
    before, after = _layers(old), _layers(new)
    before_digests = {layer["digest"] for layer in before}
    after_digests = {layer["digest"] for layer in after}
    shared = [layer for layer in after if layer["digest"] in before_digests]
    added = [layer for layer in after if layer["digest"] not in before_digests]
    removed = [layer for layer in before if layer["digest"] not in after_digests]
    return {
        "shared": shared,
        "added": added,
        "removed": removed,
        "shared_size": sum(layer["size"] for layer in shared),
        "added_size": sum(layer["size"] for layer in added),
        "removed_size": sum(layer["size"] for layer in removed),
    }


def _strings(value: Any) -> list[str] | None:
    if not isinstance(value, list):
        return None
    return [str(item) for item in value]


def _mapping(value: Any) -> dict[str, str]:
    return {str(key): str(item) for key, item in value.items()} if isinstance(value, dict) else {}


def _env(value: Any) -> dict[str, str]:
    pairs = (str(item).partition("=") for item in value) if isinstance(value, list) else ()
    return {name: item for name, _, item in pairs}


def mapping_diff(old: dict[str, str], new: dict[str, str]) -> dict[str, Any]:
    return {
        "added": {key: new[key] for key in new if key not in old},
        "removed": {key: old[key] for key in old if key not in new},
        "changed": {
            key: {"from": old[key], "to": new[key]}
            for key in new
            if key in old and old[key] != new[key]
        },
    }


def _set_diff(old: dict, new: dict) -> dict[str, list[str]]:
    return {
        "added": sorted(set(new) - set(old)),
        "removed": sorted(set(old) - set(new)),
    }


def _value_diff(old: Any, new: Any) -> dict[str, Any]:
    return {"from": old, "to": new, "changed": old != new}


def config_compare(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """What changed between two image configs' runtime settings (their `config` objects)."""
    before = old.get("config") if isinstance(old.get("config"), dict) else {}
    after = new.get("config") if isinstance(new.get("config"), dict) else {}

    def text(config: dict, key: str) -> str:
        return str(config.get(key) or "")

    return {
        "env": mapping_diff(_env(before.get("Env")), _env(after.get("Env"))),
        "labels": mapping_diff(_mapping(before.get("Labels")), _mapping(after.get("Labels"))),
        "exposed_ports": _set_diff(
            _mapping(before.get("ExposedPorts")), _mapping(after.get("ExposedPorts"))
        ),
        "volumes": _set_diff(_mapping(before.get("Volumes")), _mapping(after.get("Volumes"))),
        "cmd": _value_diff(_strings(before.get("Cmd")), _strings(after.get("Cmd"))),
        "entrypoint": _value_diff(
            _strings(before.get("Entrypoint")), _strings(after.get("Entrypoint"))
        ),
        "workdir": _value_diff(text(before, "WorkingDir"), text(after, "WorkingDir")),
        "user": _value_diff(text(before, "User"), text(after, "User")),
    }


MAX_PLATFORM_SUMMARIES = 32


def platforms_compare(repository, old: list[Platform], new: list[Platform]) -> list[dict]:
    """For two indexes, a layer summary of every platform both have (manifests only, no
    config reads); empty unless both sides are indexes."""
    if len(old) < 2 or len(new) < 2:
        return []
    after = {str(image): image for image in new}
    pairs = [(image, after[str(image)]) for image in old if str(image) in after]
    pairs = pairs[:MAX_PLATFORM_SUMMARIES]
    digests = {image.digest for pair in pairs for image in pair}
    manifests = {
        manifest.digest: manifest
        for manifest in Manifest.objects.filter(repository=repository, digest__in=digests)
    }
    summaries = []
    for before, then in pairs:
        if before.digest not in manifests or then.digest not in manifests:
            continue
        layers = layers_compare(manifests[before.digest], manifests[then.digest])
        summaries.append(
            {
                "platform": str(before),
                "from_image_digest": before.digest,
                "to_image_digest": then.digest,
                "shared": len(layers["shared"]),
                "added": len(layers["added"]),
                "removed": len(layers["removed"]),
                "size_delta": then.size - before.size,
            }
        )
    return summaries


def packages_compare(old: dict[str, str] | None, new: dict[str, str] | None) -> dict | None:
    """Packages added, removed and changed in version; None unless both sides' are known."""
    if old is None or new is None:
        return None
    return mapping_diff(old, new)


def image_compare(
    *,
    repository,
    from_ref: str,
    to_ref: str,
    platform: str = "",
    packages: PackageSource = packages_for,
) -> dict[str, Any]:
    """Compare two references of a repository; raise ComparisonInvalid for a reference that
    names nothing here, a malformed platform, or a platform a side lacks.

    `packages` gives an image manifest's packages (compare_packages.packages_for by default).
    """
    if platform and not PLATFORM_RE.match(platform):
        raise ComparisonInvalid({"platform": _("Write a platform as os/architecture[/variant].")})
    manifests = {
        "from": _manifest_resolve(repository, from_ref, "from"),
        "to": _manifest_resolve(repository, to_ref, "to"),
    }
    images = {field: manifest_images(manifest) for field, manifest in manifests.items()}
    chosen = _platform_pick(list(images.values()), platform)
    references = {"from": from_ref, "to": to_ref}
    old, new = (
        _side(repository, references[field], manifests[field], images[field], chosen, field)
        for field in ("from", "to")
    )
    offered = [str(image) for image in images["from"] if image.os]
    offered += [str(image) for image in images["to"] if image.os and str(image) not in offered]
    layers = layers_compare(old.image, new.image)
    from_summary, to_summary = old.summary(), new.summary()
    layers["size_delta"] = to_summary["size"] - from_summary["size"]
    return {
        "from": from_summary,
        "to": to_summary,
        "platform": chosen,
        "platforms": offered,
        "layers": layers,
        "by_platform": platforms_compare(repository, images["from"], images["to"]),
        "config": config_compare(old.config, new.config),
        "packages": packages_compare(packages(old.image), packages(new.image)),
    }
