"""Hand deliveries to Celery. Tasks are looked up by name: webhooks.tasks imports the services,
never the other way round (webhooks.apps registers the tasks at start-up)."""

from __future__ import annotations

import logging

from django.db import transaction

from config.celery import app

logger = logging.getLogger(__name__)

DELIVER_TASK = "webhooks.tasks.deliver_webhook"


def delivery_enqueue(*, delivery_ids, countdown: float | None = None) -> None:
    """Queue delivery tasks; if the broker is down, leave them to the sweep instead of failing.

    One broker connection per batch, tried once: a push must not wait out the broker client's
    reconnect schedule (seconds per message) while the broker is away.
    """
    if not delivery_ids:
        return
    deliver = app.tasks[DELIVER_TASK]
    if app.conf.task_always_eager:
        for pk in delivery_ids:
            deliver.apply_async((pk,), countdown=countdown)
        return
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_max=0.2)
            for pk in delivery_ids:
                deliver.apply_async((pk,), countdown=countdown, connection=connection, retry=False)
    except Exception:  # noqa: BLE001 - any broker error: rows stay pending, the sweep re-queues
        logger.warning("could not queue webhook deliveries %s; the sweep will", delivery_ids)


def enqueue_after_commit(delivery_ids: list[int], *, countdown: float | None = None) -> None:
    """Queue the deliveries once the caller's transaction commits (never for a rolled-back one)."""
    transaction.on_commit(lambda: delivery_enqueue(delivery_ids=delivery_ids, countdown=countdown))
