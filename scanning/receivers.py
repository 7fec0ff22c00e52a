"""Start a scan after each push (off the request path: a Celery task); void the pull path's
remembered scan policy when one changes."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from registry_api import lookups
from registry_api.signals import manifest_pushed
from scanning.models import ScanPolicy

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


@receiver(post_save, sender=ScanPolicy, dispatch_uid="scanning-policy-saved")
@receiver(post_delete, sender=ScanPolicy, dispatch_uid="scanning-policy-deleted")
def scan_policy_changed(sender, instance: ScanPolicy, **kwargs) -> None:
    # Every save (the service, the admin site) and delete, cascades included.
    lookups.repository_changed(repository_id=instance.repository_id)
