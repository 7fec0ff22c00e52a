"""Webhook reads."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from webhooks.models import Delivery, DeliveryAttempt, Webhook


def webhook_list(*, repository) -> QuerySet[Webhook]:
    return Webhook.objects.filter(repository=repository).order_by("created_at", "pk")


def webhook_get(*, repository, webhook_id) -> Webhook | None:
    try:
        return webhook_list(repository=repository).filter(pk=int(webhook_id)).first()
    except (TypeError, ValueError):
        return None


def delivery_list(*, webhook: Webhook) -> QuerySet[Delivery]:
    return (
        Delivery.objects.filter(webhook=webhook)
        .select_related("event")
        .prefetch_related(
            Prefetch("attempt_log", queryset=DeliveryAttempt.objects.order_by("started_at", "pk"))
        )
        .order_by("-created_at", "-pk")
    )


def delivery_get(*, webhook: Webhook, delivery_id) -> Delivery | None:
    try:
        return delivery_list(webhook=webhook).filter(pk=int(delivery_id)).first()
    except (TypeError, ValueError):
        return None
