"""One attempt of one delivery: claim it, sign and send it, log the answer, schedule the retry.

A task first *claims* its delivery (one conditional UPDATE that counts the attempt and leases the
row), so duplicate tasks (the sweep re-queueing, a redelivered message after a killed worker)
never send the same attempt twice.
"""

from __future__ import annotations

import random
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from config import metrics
from webhooks import payloads, sending, signing
from webhooks.models import Delivery, DeliveryAttempt, Webhook
from webhooks.services.queue import enqueue_after_commit

MAX_BACKOFF_SECONDS = 3600


def retry_delay(attempt: int) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based): doubling, +0–25% jitter."""
    base = settings.WEBHOOK_RETRY_BACKOFF_SECONDS * 2 ** max(0, attempt - 1)
    return min(MAX_BACKOFF_SECONDS, base) * random.uniform(1.0, 1.25)  # noqa: S311


def _lease_seconds() -> int:
    # Long enough for one attempt (connect + read timeouts); a worker killed mid-attempt leaves
    # the row leased this long, then the sweep hands it to another worker.
    return 2 * settings.WEBHOOK_TIMEOUT_SECONDS + 5


def _claim(delivery_id: int) -> Delivery | None:
    now = timezone.now()
    claimed = Delivery.objects.filter(
        pk=delivery_id,
        status=Delivery.Status.PENDING,
        next_attempt_at__lte=now,
        attempts__lt=settings.WEBHOOK_MAX_ATTEMPTS,
    ).update(attempts=F("attempts") + 1, next_attempt_at=now + timedelta(seconds=_lease_seconds()))
    if not claimed:
        return None
    return Delivery.objects.select_related("webhook", "event").get(pk=delivery_id)


def delivery_attempt(*, delivery_id: int) -> Delivery | None:
    """Make the next attempt of a pending, due delivery; return it, or None if not ours to send."""
    # When the attempt was due, for the queue-lag metric (the claim moves it to the lease's end).
    due = Delivery.objects.filter(pk=delivery_id).values_list("next_attempt_at", flat=True).first()
    delivery = _claim(delivery_id)
    if delivery is None:
        return None
    if due is not None:
        metrics.webhook_queue_lag((timezone.now() - due).total_seconds())
    hook = delivery.webhook
    body, content_type = payloads.payload_render(delivery)
    started_at = timezone.now()
    try:
        signed = signing.signed_headers(
            hook.secret, msg_id=message_id(delivery), timestamp=int(time.time()), body=body
        )
    except signing.InvalidSecret as exc:
        result = sending.SendResult(
            None, 0, error=f"not sent: the webhook's secret is invalid ({exc})"
        )
    else:
        headers = {
            "Content-Type": content_type,
            "X-Dockyard-Event": delivery.event.action,
            **signed,
        }
        result = sending.http_post(hook.url, body=body, headers=headers)
    _record(delivery=delivery, started_at=started_at, result=result)
    return delivery


def message_id(delivery: Delivery) -> str:
    """The webhook-id header: the same on every attempt of one delivery."""
    return f"msg_{delivery.uuid.hex}"


@transaction.atomic
def _record(*, delivery: Delivery, started_at, result: sending.SendResult) -> None:
    DeliveryAttempt.objects.create(
        delivery=delivery,
        started_at=started_at,
        status_code=result.status_code,
        duration_ms=result.duration_ms,
        # PostgreSQL text cannot hold NUL; receivers may answer anything.
        response_excerpt=result.excerpt.replace("\x00", "\ufffd"),
        error=result.error.replace("\x00", "\ufffd")[:500],
    )
    delivery.last_response_code = result.status_code
    hook = delivery.webhook
    if result.ok:
        metrics.webhook_delivery("delivered")
        delivery.status = Delivery.Status.DELIVERED
        delivery.delivered_at = timezone.now()
        delivery.save(update_fields=["status", "delivered_at", "last_response_code"])
        Webhook.objects.filter(pk=hook.pk, consecutive_failures__gt=0).update(
            consecutive_failures=0
        )
        return
    if delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        metrics.webhook_delivery("failed")
        delivery.status = Delivery.Status.FAILED
        delivery.save(update_fields=["status", "last_response_code"])
        webhook_failure_count(hook=hook, last_error=result.error)
        return
    metrics.webhook_delivery("retry")
    delay = retry_delay(delivery.attempts)
    delivery.next_attempt_at = timezone.now() + timedelta(seconds=delay)
    delivery.save(update_fields=["next_attempt_at", "last_response_code"])
    enqueue_after_commit([delivery.pk], countdown=delay)


def webhook_failure_count(*, hook: Webhook, last_error: str) -> None:
    """A delivery failed for good: count it; too many in a row disable the hook, saying why."""
    Webhook.objects.filter(pk=hook.pk).update(consecutive_failures=F("consecutive_failures") + 1)
    hook.refresh_from_db(fields=["consecutive_failures", "is_active"])
    limit = settings.WEBHOOK_DISABLE_AFTER_FAILURES
    if hook.is_active and limit and hook.consecutive_failures >= limit:
        reason = (
            f"Disabled on {timezone.now():%Y-%m-%d %H:%M} UTC after {hook.consecutive_failures} "
            f"deliveries in a row failed (last error: {last_error or 'unknown'})."
        )[:300]
        Webhook.objects.filter(pk=hook.pk).update(is_active=False, disabled_reason=reason)
        pending_deliveries_fail(webhook=hook, reason="the webhook was disabled")


def pending_deliveries_fail(*, webhook: Webhook, reason: str) -> None:
    """Give up a hook's pending deliveries, logging why on each."""
    pending = Delivery.objects.filter(webhook=webhook, status=Delivery.Status.PENDING)
    for delivery in pending:
        DeliveryAttempt.objects.create(delivery=delivery, error=f"not sent: {reason}")
    pending.update(status=Delivery.Status.FAILED)
