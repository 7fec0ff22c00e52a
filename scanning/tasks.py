"""Celery tasks of scanning: thin adapters over the services."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from registry_api.models import Manifest

logger = logging.getLogger(__name__)


@shared_task
def manifest_scan_task(manifest_id: int) -> int:
    """Scan a pushed image (or each image of a pushed index); returns the number scanned."""
    from scanning.services.scans import manifest_scan

    manifest = Manifest.objects.filter(pk=manifest_id).select_related("repository").first()
    if manifest is None:  # deleted before the worker got to it
        return 0
    return len(manifest_scan(manifest=manifest))


@shared_task
def osv_feeds_refresh() -> int:
    """Download and import every OSV_FEED_URLS export (Celery beat, OSV_REFRESH_SECONDS)."""
    from scanning.services.feeds import feed_import

    imported = 0
    for url in settings.OSV_FEED_URLS:
        try:
            imported += feed_import(url=url).created
        except Exception:  # one broken feed must not stop the others
            logger.exception("osv: feed %s could not be imported", url)
    return imported


@shared_task
def scan_sweep() -> int:
    """Scan recent images no scan has seen (the broker was down at push time, a worker died)."""
    from scanning.services.scans import manifest_scan, manifests_unscanned

    scanned = 0
    for manifest in manifests_unscanned(limit=settings.SCAN_SWEEP_BATCH):
        scanned += len(manifest_scan(manifest=manifest))
    return scanned
