"""Recovery: the periodic sweep (re-queue what the broker or a killed worker lost, fail lost
last attempts, prune old rows and a deleted repository's hooks) and redelivery on request."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from webhooks.models import Delivery, DeliveryAttempt, Event, Webhook
from webhooks.services.delivery import webhook_failure_count
from webhooks.services.hooks import webhook_audit
from webhooks.services.queue import delivery_enqueue, enqueue_after_commit

# Finished deliveries (and events no delivery refers to) are kept this long for the log.
RETENTION_DAYS = 30


def delivery_sweep(*, limit: int = 500) -> int:
    """Re-queue pending deliveries that are overdue (broker was down, worker was killed).

    Deliveries out of attempts whose lease ran out are marked failed. Returns how many were queued.
    """
    now = timezone.now()
    overdue = Delivery.objects.filter(
        status=Delivery.Status.PENDING,
        next_attempt_at__lte=now - timedelta(seconds=settings.WEBHOOK_SWEEP_SECONDS),
    )
    exhausted = overdue.filter(attempts__gte=settings.WEBHOOK_MAX_ATTEMPTS)
    for delivery in exhausted.select_related("webhook"):
        with transaction.atomic():
            DeliveryAttempt.objects.create(delivery=delivery, error="no answer recorded (lost)")
            delivery.status = Delivery.Status.FAILED
            delivery.save(update_fields=["status"])
            webhook_failure_count(hook=delivery.webhook, last_error="lost attempt")
    due = list(
        overdue.filter(attempts__lt=settings.WEBHOOK_MAX_ATTEMPTS)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    delivery_enqueue(delivery_ids=due)
    _prune(now=now)
    return len(due)


def _prune(*, now, batch: int = 1000) -> None:
    cutoff = now - timedelta(days=RETENTION_DAYS)
    old = Delivery.objects.filter(created_at__lt=cutoff).exclude(status=Delivery.Status.PENDING)
    Delivery.objects.filter(pk__in=list(old.values_list("pk", flat=True)[:batch])).delete()
    orphans = Event.objects.filter(created_at__lt=cutoff, deliveries__isnull=True)
    Event.objects.filter(pk__in=list(orphans.values_list("pk", flat=True)[:batch])).delete()
    # A deleted repository's hooks, once they have sent what was pending (with their log).
    retired = Webhook.objects.filter(repository__isnull=True, organization__isnull=True).exclude(
        deliveries__status=Delivery.Status.PENDING
    )
    Webhook.objects.filter(pk__in=list(retired.values_list("pk", flat=True)[:batch])).delete()


def delivery_redeliver(*, delivery: Delivery, actor=None) -> Delivery:
    """Send a delivery's event to its hook again, as a new delivery with its own attempts."""
    with transaction.atomic():
        again = Delivery.objects.create(webhook=delivery.webhook, event=delivery.event)
        enqueue_after_commit([again.pk])
        webhook_audit(
            "webhook.redeliver", delivery.webhook, actor=actor, data={"delivery": delivery.pk}
        )
    return again
