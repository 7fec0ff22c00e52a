"""Webhook reads."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from webhooks.models import Delivery, DeliveryAttempt, Webhook


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
    hooks = webhook_list(repository=repository, organization=organization)
    try:
        return hooks.filter(pk=int(webhook_id)).first()
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
