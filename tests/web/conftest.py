"""Fixtures for the web UI tests: images (manifests, tags, config blobs) built in the database."""

from __future__ import annotations

import json

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from registry_api import storage
from registry_api.models import Blob, Manifest, Tag
from tests.factories import digest_of

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def blob_store(data: bytes) -> str:
    """Record a blob and put its bytes where the registry keeps them."""
    digest = digest_of(data)
    Blob.objects.get_or_create(digest=digest, defaults={"size": len(data)})
    target = storages["registry"]
    path = storage.blob_path(digest)
    if not target.exists(path):
        target.save(path, ContentFile(data))
    return digest


def image_create(
    repository,
    tag: str,
    *,
    config: dict | None = None,
    layers: tuple[bytes, ...] = (b"layer-one", b"layer-two-bigger"),
    pushed_by=None,
) -> Tag:
    """Create an OCI image manifest with a config blob and layers, tagged `tag`."""
    config = config or {
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "Entrypoint": ["/docker-entrypoint.sh"],
            "Cmd": ["nginx", "-g", "daemon off;"],
            "Env": ["PATH=/usr/bin", "NGINX_VERSION=1.27"],
            "ExposedPorts": {"80/tcp": {}},
            "Labels": {"org.opencontainers.image.source": "https://example.com/app"},
        },
        "history": [
            {"created_by": "ADD rootfs.tar /"},
            {"created_by": "ENV NGINX_VERSION=1.27", "empty_layer": True},
            {"created_by": "RUN apt-get install nginx"},
        ],
        "rootfs": {"type": "layers", "diff_ids": []},
    }
    config_bytes = json.dumps(config).encode()
    config_digest = blob_store(config_bytes)
    layer_descriptors = [
        {"mediaType": OCI_LAYER, "digest": blob_store(layer), "size": len(layer)}
        for layer in layers
    ]
    body = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config_bytes)},
            "layers": layer_descriptors,
        }
    ).encode()
    manifest, _ = Manifest.objects.get_or_create(
        repository=repository,
        digest=digest_of(body),
        defaults={
            "media_type": OCI_MANIFEST,
            "payload": body,
            "size": len(body),
            "config_digest": config_digest,
            "total_size": len(config_bytes) + sum(len(layer) for layer in layers),
            "pushed_by": pushed_by,
        },
    )
    tag_row, _ = Tag.objects.update_or_create(
        repository=repository, name=tag, defaults={"manifest": manifest, "pushed_by": pushed_by}
    )
    return tag_row


def index_create(repository, tag: str, *, pushed_by=None) -> Tag:
    """Create a two-platform OCI index (linux/amd64, linux/arm64/v8) tagged `tag`."""
    children = []
    for arch, variant in (("amd64", ""), ("arm64", "v8")):
        config = {"architecture": arch, "os": "linux", "config": {"Cmd": ["sh"]}, "history": []}
        if variant:
            config["variant"] = variant
        child = image_create(repository, f"tmp-{arch}", config=config, layers=(arch.encode() * 10,))
        platform = {"os": "linux", "architecture": arch}
        if variant:
            platform["variant"] = variant
        children.append((child.manifest, platform))
        child.delete()
    body = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": manifest.digest,
                    "size": manifest.size,
                    "platform": platform,
                }
                for manifest, platform in children
            ],
        }
    ).encode()
    index = Manifest.objects.create(
        repository=repository,
        digest=digest_of(body),
        media_type=OCI_INDEX,
        payload=body,
        size=len(body),
        pushed_by=pushed_by,
    )
    index.children.set([manifest for manifest, _ in children])
    return Tag.objects.create(repository=repository, name=tag, manifest=index, pushed_by=pushed_by)


@pytest.fixture
def tagged_repo(public_repo, alice):
    image_create(public_repo, "latest", pushed_by=alice)
    return public_repo
