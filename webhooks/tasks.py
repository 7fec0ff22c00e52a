"""Celery tasks: thin adapters that take ids."""

from __future__ import annotations

from celery import shared_task


@shared_task
def deliver_webhook(delivery_id: int) -> None:
    """Deliver one webhook request (implemented by the webhooks capability)."""


@shared_task
def sweep_deliveries() -> None:
    """Re-queue deliveries left behind (implemented by the webhooks capability)."""
