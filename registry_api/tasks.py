"""Celery tasks of the registry: thin adapters over the services."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from registry_api.services.gc import GcBusy, gc_run
from registry_api.services.image_metadata import image_metadata_record
from registry_api.services.uploads import upload_expire

logger = logging.getLogger(__name__)


@shared_task
def garbage_collect(
    trigger: str = "schedule", actor_id: int | None = None, dry_run: bool = False
) -> int | None:
    """One garbage collection (Celery beat every GC_INTERVAL_SECONDS, or the admin's button);
    abandoned upload sessions are purged in it. Returns the GcRun's id, None when another
    collection was running (the lock makes two workers never collect at once)."""
    actor = None
    if actor_id is not None:
        from django.contrib.auth import get_user_model

        actor = get_user_model().objects.filter(pk=actor_id).first()
    try:
        return gc_run(trigger=trigger, actor=actor, dry_run=dry_run).pk
    except GcBusy:
        logger.info("gc: skipped, another collection is running")
        return None


@shared_task
def purge_stale_uploads() -> int:
    """Cancel upload sessions idle for UPLOAD_PURGE_AFTER_SECONDS and drop stray staged bytes:
    scheduled on its own only when GC_INTERVAL_SECONDS is 0 (a collection includes it)."""
    cutoff = timezone.now() - timedelta(seconds=settings.UPLOAD_PURGE_AFTER_SECONDS)
    return upload_expire(older_than=cutoff)


# Retention policies (services.retention): run the due ones on every beat.
@shared_task
def retention_run_all() -> int:
    from registry_api.services.retention import retention_run_due

    return retention_run_due()


@shared_task
def mirror_fetch_locks_sweep() -> int:
    """Break the pull-through cache's stale fetch locks and remove what finished fetches left
    (Celery beat every MIRROR_FETCH_SWEEP_SECONDS)."""
    from registry_api.proxy.fetch_locks import fetch_locks_sweep

    return fetch_locks_sweep()


@shared_task
def image_metadata_read(manifest_id: int, pushed_at: str) -> None:
    """Fill a repository's metadata from the annotations of a manifest pushed by tag."""
    image_metadata_record(manifest_id=manifest_id, pushed_at=datetime.fromisoformat(pushed_at))
