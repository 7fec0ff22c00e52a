"""Celery tasks: thin adapters that take ids. Workers acknowledge late (config/settings.py)."""

from __future__ import annotations

from celery import shared_task

from webhooks import services


@shared_task
def deliver_webhook(delivery_id: int) -> None:
    """Make the next attempt of one delivery; a duplicate or early task does nothing."""
    services.delivery_attempt(delivery_id=delivery_id)


@shared_task
def sweep_deliveries() -> int:
    """Re-queue deliveries left behind (broker down, worker killed)."""
    return services.delivery_sweep()
