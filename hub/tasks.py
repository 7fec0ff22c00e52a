"""Celery tasks of the portal: thin adapters over the services."""

from __future__ import annotations

from celery import shared_task

from hub.audit import audit_prune as _audit_prune


@shared_task
def audit_prune() -> int:
    """Daily (Celery beat): drop audit entries past AUDIT_LOG_RETENTION_DAYS."""
    return _audit_prune()
