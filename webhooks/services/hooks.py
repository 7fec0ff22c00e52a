"""Creating, changing, deleting and test-firing webhooks; callers check permissions first."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from hub.audit import audit_record
from webhooks import payloads, signing
from webhooks.models import Delivery, Event, Webhook
from webhooks.services.delivery import pending_deliveries_fail
from webhooks.services.events import EVENT_CHOICES
from webhooks.services.queue import enqueue_after_commit
from webhooks.url_safety import UnsafeURL, url_check

# Each push fans out to every hook: cap them per repository and per organization.
MAX_WEBHOOKS_PER_OWNER = 25
EDITABLE_FIELDS = ("name", "url", "events", "payload_format", "is_active")


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
    webhook_audit("webhook.create", hook, actor=actor, data={"events": events})
    return hook


def webhook_audit(action: str, hook: Webhook, *, actor=None, data: dict | None = None) -> None:
    owner = hook.repository.full_name if hook.repository_id else hook.organization.name
    namespace = owner.split("/", 1)[0]
    audit_record(
        action=action, actor=actor, target=f"{owner}#{hook.name}", namespace=namespace, data=data
    )


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
        pending_deliveries_fail(webhook=webhook, reason="the webhook was deactivated")
    # Field names only: never the new secret.
    webhook_audit("webhook.update", webhook, data={"fields": sorted(set(fields))})
    return webhook


def webhook_delete(*, webhook: Webhook) -> None:
    webhook_audit("webhook.delete", webhook)
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
        enqueue_after_commit([delivery.pk])
        # A test send makes the server call the hook's URL on demand: who asked is recorded.
        webhook_audit("webhook.test", webhook, actor=actor, data={"delivery": delivery.pk})
    return delivery
