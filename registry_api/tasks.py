"""Celery tasks of the registry: thin adapters over the services."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from registry_api.services.uploads import upload_expire


@shared_task
def purge_stale_uploads() -> int:
    """Cancel upload sessions idle for UPLOAD_PURGE_AFTER_SECONDS and drop stray staged bytes
    (run by Celery beat; `garbage_collect` does the same on demand)."""
    cutoff = timezone.now() - timedelta(seconds=settings.UPLOAD_PURGE_AFTER_SECONDS)
    return upload_expire(older_than=cutoff)


# Retention policies (services.retention): run the due ones on every beat.
@shared_task
def retention_run_all() -> int:
    from registry_api.services.retention import retention_run_due

    return retention_run_due()
