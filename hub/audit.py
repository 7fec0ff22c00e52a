"""The audit log's one writer: services call `audit_record` where they perform an action.

The request being served (set by `AuditRequestMiddleware`) supplies the client address, user
agent and, when a service is not told, the actor; so services need not pass requests around.
Each entry is forwarded as one JSON line to the "dockyard.audit" logger once its transaction
commits (settings AUDIT_LOG_FILE, AUDIT_LOG_SYSLOG).
"""

from __future__ import annotations

import contextvars
import ipaddress
import json
import logging
import random

from django.conf import settings
from django.db import transaction

from config.request_context import request_id
from hub.models import AuditEntry

logger = logging.getLogger("dockyard.audit")
_request: contextvars.ContextVar = contextvars.ContextVar("audit_request", default=None)
# Keys never stored in `data`, whatever a caller passes: a secret must not reach the log.
_SECRET_KEYS = ("password", "secret", "token", "authorization", "credential")


class AuditRequestMiddleware:
    """After authentication: entries recorded while a request runs know who and from where."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)


def current_request():
    return _request.get()


def actor_kind(user) -> str:
    """ "robot" for `<namespace>+<name>` accounts (a `+` no person's username can hold)."""
    if user is None:
        return AuditEntry.ActorKind.ANONYMOUS
    return AuditEntry.ActorKind.ROBOT if "+" in user.username else AuditEntry.ActorKind.USER


def _clean(data: dict) -> dict:
    return {
        key: value
        for key, value in data.items()
        if not any(word in key.lower() for word in _SECRET_KEYS)
    }


def _address(value: str) -> str | None:
    """A valid IP address, else None ("unknown", or a proxy's header that names none)."""
    try:
        return str(ipaddress.ip_address(value.strip().strip("[]")))
    except ValueError:
        return None


def pull_sampled() -> bool:
    """Whether this pull is recorded (AUDIT_PULLS: none, all, or a fraction such as 0.01)."""
    mode = settings.AUDIT_PULLS
    if mode == "none":
        return False
    if mode == "all":
        return True
    return random.random() < float(mode)  # noqa: S311 (sampling, not security)


def audit_record(
    *,
    action: str,
    actor=None,
    target: str = "",
    result: str = "ok",
    data: dict | None = None,
    request=None,
    namespace: str | None = None,
    system: bool = False,
    actor_name: str = "",
) -> AuditEntry:
    """Record `action` on `target` by `actor`.

    Without `actor`, the current request's user (anonymous if none); `system=True` for
    scheduled work (GC, retention). `namespace` scopes the entry to an organization or user
    (their owners see it); by default the first part of `target`. `actor_name` names an
    actor that is not a user row (a failed sign-in's claimed username). `data` never keeps a
    key that names a secret.
    """
    request = request if request is not None else current_request()
    if actor is None and request is not None and not system and not actor_name:
        actor = getattr(request, "user", None)
    user = actor if getattr(actor, "is_authenticated", False) else None
    address, agent = None, ""
    if request is not None:
        from hub.credentials import client_ip

        address = _address(client_ip(request))
        agent = request.META.get("HTTP_USER_AGENT", "")[:300]
    # No user and no request: scheduled work (a Celery task, a management command).
    unattended = system or request is None
    kind = AuditEntry.ActorKind.SYSTEM if user is None and unattended else actor_kind(user)
    if namespace is None:
        namespace = target.split("/", 1)[0].split(":", 1)[0].split("@", 1)[0]
    entry = AuditEntry.objects.create(
        actor=user,
        actor_name=(getattr(user, "username", "") or actor_name)[:150],
        actor_kind=kind,
        action=action,
        target=target[:300],
        namespace=namespace[:255],
        result=result,
        data=_clean(data or {}),
        client_address=address,
        user_agent=agent,
        request_id=request_id(),
    )
    transaction.on_commit(lambda: _forward(entry))
    return entry


def entry_json(entry: AuditEntry) -> dict:
    return {
        "id": entry.pk,
        "time": entry.created_at.isoformat(),
        "actor": entry.actor_name,
        "actor_kind": entry.actor_kind,
        "action": entry.action,
        "target": entry.target,
        "namespace": entry.namespace,
        "result": entry.result,
        "request_id": entry.request_id,
        "client_address": entry.client_address,
        "user_agent": entry.user_agent,
        "data": entry.data,
    }


def _forward(entry: AuditEntry) -> None:
    if logger.handlers:
        logger.info(json.dumps(entry_json(entry), sort_keys=True, default=str))


def audit_prune(*, days: int | None = None, batch: int = 5000) -> int:
    """Delete entries older than `days` (AUDIT_LOG_RETENTION_DAYS; 0 keeps everything), in
    batches so a first prune of a big log holds no long lock. Returns how many went."""
    from datetime import timedelta

    from django.utils import timezone

    days = settings.AUDIT_LOG_RETENTION_DAYS if days is None else days
    if days <= 0:
        return 0
    cutoff = timezone.now() - timedelta(days=days)
    total = 0
    while True:
        pks = list(
            AuditEntry.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[:batch]
        )
        if not pks:
            return total
        total += AuditEntry.objects.filter(pk__in=pks).delete()[0]
