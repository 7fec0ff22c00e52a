"""Webhook writes. event_publish is the one door through which events are reported."""

from __future__ import annotations

from django.db import transaction

from webhooks.models import Delivery, Event, Webhook


def _matching_webhooks(*, repository, action: str):
    hooks = Webhook.objects.filter(is_active=True)
    hooks = hooks.filter(repository=repository) | hooks.filter(
        organization__isnull=False, organization_id=repository.namespace.organization_id
    )
    return [hook for hook in hooks if action in (hook.events or [])]


def event_publish(*, action: str, repository, actor=None, data: dict) -> Event:
    """Record an event and a Delivery per matching hook; deliveries are queued after commit.

    Call inside the transaction that made the change, so the event exists iff the change does.
    """
    event = Event.objects.create(
        action=action,
        repository=repository,
        data={**data, "actor": getattr(actor, "username", "") or ""},
    )
    deliveries = [
        Delivery.objects.create(webhook=hook, event=event)
        for hook in _matching_webhooks(repository=repository, action=action)
    ]
    if deliveries:
        from webhooks.tasks import deliver_webhook

        ids = [delivery.pk for delivery in deliveries]
        transaction.on_commit(lambda: [deliver_webhook.delay(pk) for pk in ids])
    return event
