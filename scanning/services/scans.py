"""Scan an image once: read its layers (bounded), keep its packages, write its SBOM referrer,
then evaluate it against the advisories we hold."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from registry_api import storage
from registry_api.models import Manifest
from registry_api.selectors.manifests import manifest_parsed
from scanning.layers import ScanLimits, image_contents
from scanning.models import ImagePackage, ImageScan
from scanning.purls import package_purl
from scanning.services.findings import findings_evaluate
from scanning.services.referrers import sbom_referrer_store

logger = logging.getLogger(__name__)

IMAGE_MANIFEST_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
IMAGE_CONFIG_TYPES = (
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
)


def match_name(ecosystem: str, name: str) -> str:
    """The name advisories use: PyPI names compare normalized (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower() if ecosystem == "pypi" else name


def scan_limits() -> ScanLimits:
    return ScanLimits(
        max_bytes=settings.SCAN_MAX_BYTES,
        max_files=settings.SCAN_MAX_FILES,
        max_file_bytes=settings.SCAN_MAX_FILE_BYTES,
    )


def is_scannable(manifest: Manifest) -> bool:
    """Runnable images and indexes; never artifacts (SBOMs, signatures) nor referrers."""
    return not manifest.artifact_type and not manifest.subject_digest


def manifest_scan(*, manifest: Manifest) -> list[ImageScan]:
    """Scan an image manifest, or each platform image of an index; already scanned ones are
    kept as they are (their packages do not change: the digest fixes the content)."""
    if not is_scannable(manifest):
        return []
    if manifest.is_index:
        children = manifest.children.order_by("pk")
        return [scan for child in children for scan in manifest_scan(manifest=child)]
    if ImageScan.objects.filter(manifest=manifest).exists():
        return []
    parsed = manifest_parsed(manifest)
    if (
        parsed is None
        or parsed.config is None
        or parsed.config.media_type not in IMAGE_CONFIG_TYPES
    ):
        # Remembered, so the sweep does not come back to it: a Helm chart, a WASM module...
        ImageScan.objects.get_or_create(
            manifest=manifest,
            defaults={"status": ImageScan.Status.SKIPPED, "notes": ["not a container image"]},
        )
        return []
    layers = [(layer.digest, layer.media_type) for layer in parsed.layers if not layer.urls]
    contents = image_contents(layers, open_blob=storage.blobs().open, limits=scan_limits())
    return [_scan_record(manifest=manifest, contents=contents)]


def manifests_unscanned(*, limit: int) -> list[Manifest]:
    """Image manifests pushed in the last week, at least a minute ago, without a scan."""
    now = timezone.now()
    candidates = Manifest.objects.filter(
        created_at__gte=now - timedelta(days=7),
        created_at__lte=now - timedelta(minutes=1),
        scan__isnull=True,
        artifact_type="",
        subject_digest="",
        media_type__in=IMAGE_MANIFEST_TYPES,
        repository__mirror_of="",  # cached upstream images: their layers may not be here yet
    )
    return list(candidates.select_related("repository").order_by("created_at")[:limit])


@transaction.atomic
def _scan_record(*, manifest: Manifest, contents) -> ImageScan:
    distro, distro_version = contents.distro
    scan, created = ImageScan.objects.get_or_create(
        manifest=manifest,
        defaults={
            "status": ImageScan.Status.DONE,
            "distro": distro[:50],
            "distro_version": distro_version[:50],
            "layers_read": contents.layers_read,
            "bytes_read": contents.bytes_read,
            "files_seen": contents.files_seen,
            "truncated": contents.truncated,
            "notes": contents.notes[:50],
            "scanned_at": timezone.now(),
        },
    )
    if not created:  # a concurrent scan of the same image got there first
        return scan
    rows = [
        ImagePackage(
            manifest=manifest,
            ecosystem=found.ecosystem,
            name=match_name(found.ecosystem, found.name)[:255],
            version=found.version[:255],
            source_name=found.source_name[:255],
            purl=package_purl(found, distro=distro, distro_version=distro_version)[:1000],
            source_layer=layer,
        )
        for found, layer in contents.packages()
    ]
    ImagePackage.objects.bulk_create(rows, batch_size=500)
    if rows:
        # An image without any package database gets no SBOM: there is nothing to list.
        referrer = sbom_referrer_store(manifest=manifest, packages=rows)
        scan.sbom_digest = referrer.digest
        scan.save(update_fields=["sbom_digest"])
    findings_evaluate(manifest=manifest)
    truncated = " (truncated)" if contents.truncated else ""
    logger.info(
        "scan: %s: %d packages, %d bytes read%s",
        manifest.digest, len(rows), contents.bytes_read, truncated,
    )  # fmt: skip
    return scan
