"""Celery tasks: thin adapters that take ids. Workers acknowledge late (config/settings.py)."""

from __future__ import annotations

from celery import shared_task

from webhooks.services.delivery import delivery_attempt
from webhooks.services.queue import DELIVER_TASK
from webhooks.services.sweep import delivery_sweep


@shared_task(name=DELIVER_TASK)
def deliver_webhook(delivery_id: int) -> None:
    """Make the next attempt of one delivery; a duplicate or early task does nothing."""
    delivery_attempt(delivery_id=delivery_id)


@shared_task
def sweep_deliveries() -> int:
    """Re-queue deliveries left behind (broker down, worker killed)."""
    return delivery_sweep()
