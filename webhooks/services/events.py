"""The outbox: event_publish is the one door through which events are reported.

event_publish writes the Event and one pending Delivery per matching hook in the caller's
transaction, and queues the deliveries after commit; the event exists iff the change does.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from webhooks import payloads
from webhooks.models import Delivery, Event, Webhook
from webhooks.services.queue import enqueue_after_commit

# The event kind a hook subscribes to, for published actions not named like their kind
# ("push" and "delete" are both).
EVENT_KINDS = {
    "repository_create": "repository",
    "repository_delete": "repository",
    "repository_rename": "repository",
    "quota_warning": "quota",
    "quota_exceeded": "quota",
    "scan.vulnerabilities_found": "scan",
}
EVENT_CHOICES = [
    ("push", _("Push: a tag now points at a manifest")),
    ("delete", _("Delete: a tag or manifest was deleted")),
    ("repository", _("Repository created or deleted")),
    # Data: namespace, used_bytes, limit_bytes, percent (registry_api.services.quotas).
    ("quota", _("Quota: the namespace reached 80 % (warning) or 100 % (exceeded) of its quota")),
    # Data: digest, tag, tags, critical (new critical findings), vulnerabilities (OSV ids).
    ("scan", _("Scan: an image was found to have new critical vulnerabilities")),
]


def _matching_webhooks(*, repository, action: str):
    kind = EVENT_KINDS.get(action, action)
    hooks = Webhook.objects.filter(is_active=True)
    hooks = hooks.filter(repository=repository) | hooks.filter(
        organization__isnull=False, organization_id=repository.namespace.organization_id
    )
    return [hook for hook in hooks if kind in (hook.events or [])]


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
        enqueue_after_commit([delivery.pk for delivery in deliveries])
    return event
