"""Webhook writes. event_publish is the one door through which events are reported.

Delivery is an outbox: event_publish writes the Event and one pending Delivery per matching hook in
the caller's transaction, and queues a Celery task after commit. A task first *claims* its delivery
(one conditional UPDATE that counts the attempt and leases the row), so duplicate tasks — the sweep
re-queueing, a redelivered message after a killed worker — never send the same attempt twice.
"""

from __future__ import annotations

import logging
import random
import time
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from webhooks import payloads, sending, signing
from webhooks.models import Delivery, DeliveryAttempt, Event, Webhook
from webhooks.url_safety import UnsafeURL, url_check

logger = logging.getLogger(__name__)

# Event kinds a hook subscribes to, and the published actions each covers.
EVENT_KINDS = {
    "push": "push",
    "delete": "delete",
    "tag_delete": "delete",
    "manifest_delete": "delete",
    "repository": "repository",
    "repository_create": "repository",
    "repository_delete": "repository",
}
EVENT_CHOICES = [
    ("push", _("Push: a tag now points at a manifest")),
    ("delete", _("Delete: a tag or manifest was deleted")),
    ("repository", _("Repository created or deleted")),
]
MAX_BACKOFF_SECONDS = 3600
# Each push fans out to every hook: cap them per repository and per organization.
MAX_WEBHOOKS_PER_OWNER = 25
# Finished deliveries (and events no delivery refers to) are kept this long for the log.
RETENTION_DAYS = 30
EDITABLE_FIELDS = ("name", "url", "events", "payload_format", "is_active")


# Events -------------------------------------------------------------------------------------


def _matching_webhooks(*, repository, action: str):
    kind = EVENT_KINDS.get(action, action)
    hooks = Webhook.objects.filter(is_active=True)
    hooks = hooks.filter(repository=repository) | hooks.filter(
        organization__isnull=False, organization_id=repository.namespace.organization_id
    )
    return [hook for hook in hooks if kind in (hook.events or [])]


def _enqueue_after_commit(delivery_ids: list[int]) -> None:
    transaction.on_commit(lambda: delivery_enqueue(delivery_ids=delivery_ids))


def delivery_enqueue(*, delivery_ids, countdown: float | None = None) -> None:
    """Queue delivery tasks; if the broker is down, leave them to the sweep instead of failing.

    One broker connection per batch, tried once: a push must not wait out the broker client's
    reconnect schedule (seconds per message) while the broker is away.
    """
    from config.celery import app
    from webhooks.tasks import deliver_webhook

    if not delivery_ids:
        return
    if app.conf.task_always_eager:
        for pk in delivery_ids:
            deliver_webhook.apply_async((pk,), countdown=countdown)
        return
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_max=0.2)
            for pk in delivery_ids:
                deliver_webhook.apply_async(
                    (pk,), countdown=countdown, connection=connection, retry=False
                )
    except Exception:  # noqa: BLE001 - any broker error: rows stay pending, the sweep re-queues
        logger.warning("could not queue webhook deliveries %s; the sweep will", delivery_ids)


def event_publish(*, action: str, repository, actor=None, data: dict) -> Event:
    """Record an event and a Delivery per matching hook; deliveries are queued after commit.

    Call inside the transaction that made the change, so the event exists iff the change does.
    """
    event = Event.objects.create(
        action=action,
        repository=repository,
        data={
            **data,
            "actor": getattr(actor, "username", "") or "",
            "repository_info": payloads.repository_snapshot(repository),
        },
    )
    deliveries = [
        Delivery.objects.create(webhook=hook, event=event)
        for hook in _matching_webhooks(repository=repository, action=action)
    ]
    if deliveries:
        _enqueue_after_commit([delivery.pk for delivery in deliveries])
    return event


# Hooks --------------------------------------------------------------------------------------


def _validate(*, url: str, events: list[str], secret: str | None, check_url: bool = True) -> None:
    errors = {}
    try:
        if check_url:
            url_check(url)
    except UnsafeURL as exc:
        errors["url"] = str(exc)
    unknown = [event for event in events if event not in dict(EVENT_CHOICES)]
    if not events or unknown:
        errors["events"] = "Choose at least one of: " + ", ".join(dict(EVENT_CHOICES)) + "."
    if secret:
        try:
            signing.secret_key(secret)
        except signing.InvalidSecret as exc:
            errors["secret"] = str(exc)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def webhook_create(
    *,
    actor,
    repository=None,
    organization=None,
    name: str,
    url: str,
    events: list[str] | None = None,
    payload_format: str = Webhook.Format.DOCKER_HUB,
    secret: str = "",
    is_active: bool = True,
    site_url: str = "",
) -> Webhook:
    """Create a repository's (or an organization's) hook; callers show the secret once.

    The secret is generated unless given.
    """
    events = list(events or ["push"])
    _validate(url=url, events=events, secret=secret)
    owner = {"repository": repository} if repository is not None else {"organization": organization}
    if Webhook.objects.filter(**owner).count() >= MAX_WEBHOOKS_PER_OWNER:
        raise ValidationError(f"At most {MAX_WEBHOOKS_PER_OWNER} webhooks each.")
    hook = Webhook(
        repository=repository,
        organization=organization,
        name=name,
        url=url,
        events=events,
        payload_format=payload_format,
        secret=secret or signing.secret_generate(),
        is_active=is_active,
        created_by=actor,
        site_url=site_url[:300],
    )
    hook.full_clean()
    hook.save()
    return hook


@transaction.atomic
def webhook_update(*, webhook: Webhook, secret: str | None = None, **changes) -> Webhook:
    """Change editable fields; `secret` replaces the secret ("" generates a new one).

    Re-activating a hook clears its failure count and the reason it was disabled.
    """
    fields = [field for field in EDITABLE_FIELDS if field in changes]
    for field in fields:
        setattr(webhook, field, changes[field])
    # The URL is checked when it changes or the hook is switched on (delivery checks it again).
    _validate(
        url=webhook.url,
        events=list(webhook.events or []),
        secret=secret,
        check_url="url" in changes or changes.get("is_active") is True,
    )
    if secret is not None:
        webhook.secret = secret or signing.secret_generate()
        fields.append("secret")
    if changes.get("is_active") is True:
        webhook.consecutive_failures = 0
        webhook.disabled_reason = ""
        fields += ["consecutive_failures", "disabled_reason"]
    webhook.full_clean()
    webhook.save(update_fields=sorted(set(fields)) or None)
    if changes.get("is_active") is False:
        _fail_pending(webhook=webhook, reason="the webhook was deactivated")
    return webhook


def webhook_delete(*, webhook: Webhook) -> None:
    webhook.delete()


def webhook_test(*, webhook: Webhook, actor) -> Delivery:
    """Send a test event to one hook (even an inactive one), shaped like a push of tag `test`."""
    with transaction.atomic():
        repository = webhook.repository
        if repository is not None:
            info = payloads.repository_snapshot(repository)
        else:  # an organization's hook: a stand-in repository of that organization
            org = webhook.organization.name
            info = {"namespace": org, "name": "test", "owner": org, "is_organization": True}
        event = Event.objects.create(
            action="test",
            repository=repository,
            data={
                "tag": "test",
                "digest": "",
                "media_type": "",
                "actor": getattr(actor, "username", "") or "",
                "repository_info": info,
            },
        )
        delivery = Delivery.objects.create(webhook=webhook, event=event)
        _enqueue_after_commit([delivery.pk])
    return delivery


def delivery_redeliver(*, delivery: Delivery) -> Delivery:
    """Send a delivery's event to its hook again, as a new delivery with its own attempts."""
    with transaction.atomic():
        again = Delivery.objects.create(webhook=delivery.webhook, event=delivery.event)
        _enqueue_after_commit([again.pk])
    return again


# Delivery -----------------------------------------------------------------------------------


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
    delivery = _claim(delivery_id)
    if delivery is None:
        return None
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
        delivery.status = Delivery.Status.DELIVERED
        delivery.delivered_at = timezone.now()
        delivery.save(update_fields=["status", "delivered_at", "last_response_code"])
        Webhook.objects.filter(pk=hook.pk, consecutive_failures__gt=0).update(
            consecutive_failures=0
        )
        return
    if delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        delivery.status = Delivery.Status.FAILED
        delivery.save(update_fields=["status", "last_response_code"])
        _count_failure(hook=hook, last_error=result.error)
        return
    delay = retry_delay(delivery.attempts)
    delivery.next_attempt_at = timezone.now() + timedelta(seconds=delay)
    delivery.save(update_fields=["next_attempt_at", "last_response_code"])
    pk = delivery.pk
    transaction.on_commit(lambda: delivery_enqueue(delivery_ids=[pk], countdown=delay))


def _count_failure(*, hook: Webhook, last_error: str) -> None:
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
        _fail_pending(webhook=hook, reason="the webhook was disabled")


def _fail_pending(*, webhook: Webhook, reason: str) -> None:
    pending = Delivery.objects.filter(webhook=webhook, status=Delivery.Status.PENDING)
    for delivery in pending:
        DeliveryAttempt.objects.create(delivery=delivery, error=f"not sent: {reason}")
    pending.update(status=Delivery.Status.FAILED)


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
            _count_failure(hook=delivery.webhook, last_error="lost attempt")
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
