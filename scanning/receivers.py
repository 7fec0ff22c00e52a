"""Start a scan after each push (off the request path: a Celery task)."""

from __future__ import annotations

from django.conf import settings
from django.dispatch import receiver

from registry_api.signals import manifest_pushed


@receiver(manifest_pushed, dispatch_uid="scanning-on-push")
def manifest_pushed_scan(sender, manifest_id: int, **kwargs) -> None:
    if not settings.SCAN_ON_PUSH:
        return
    from scanning.tasks import manifest_scan_task

    manifest_scan_task.delay(manifest_id)
