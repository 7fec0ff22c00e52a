"""Start a scan after each push (off the request path: a Celery task)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.dispatch import receiver

from registry_api.signals import manifest_pushed

logger = logging.getLogger(__name__)


@receiver(manifest_pushed, dispatch_uid="scanning-on-push")
def manifest_pushed_scan(sender, manifest_id: int, **kwargs) -> None:
    if not settings.SCAN_ON_PUSH:
        return
    from scanning.tasks import manifest_scan_task

    try:
        manifest_scan_task.apply_async((manifest_id,), retry=False)
    except Exception:  # noqa: BLE001 - the push succeeded; the scan sweep picks it up later
        logger.warning("scan: could not queue the scan of manifest %s", manifest_id, exc_info=True)
