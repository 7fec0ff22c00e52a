"""Webhook reads."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from webhooks.models import Delivery, DeliveryAttempt, Webhook

MAX_ID = 2**63 - 1


def _id(value) -> int | None:
    """An id from a URL, or None when it cannot name a row (databases reject ids past bigint)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= MAX_ID else None


def webhook_list(*, repository=None, organization=None) -> QuerySet[Webhook]:
    """A repository's hooks, or an organization's (which fire for all its repositories)."""
    if organization is not None:
        hooks = Webhook.objects.filter(organization=organization)
    else:
        hooks = Webhook.objects.filter(repository=repository)
    return hooks.select_related("repository__namespace", "organization").order_by(
        "created_at", "pk"
    )


def webhook_get(*, webhook_id, repository=None, organization=None) -> Webhook | None:
    pk = _id(webhook_id)
    if pk is None:
        return None
    return webhook_list(repository=repository, organization=organization).filter(pk=pk).first()


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
    pk = _id(delivery_id)
    return None if pk is None else delivery_list(webhook=webhook).filter(pk=pk).first()
