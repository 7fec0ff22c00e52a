"""The audit log's one writer: services call `audit_record` where they perform an action."""

from __future__ import annotations

from config.request_context import request_id
from hub.models import AuditEntry


def audit_record(
    *,
    action: str,
    actor=None,
    target: str = "",
    result: str = "ok",
    data: dict | None = None,
    request=None,
) -> AuditEntry:
    """Record `action` on `target` by `actor` (None or anonymous: the system or a visitor).

    `request`, when the action came from one, gives the client address and user agent. `data`
    must never hold a secret (passwords, tokens, webhook secrets).
    """
    user = actor if getattr(actor, "is_authenticated", False) else None
    address, agent = None, ""
    if request is not None:
        from hub.credentials import client_ip

        address = client_ip(request) or None
        agent = request.META.get("HTTP_USER_AGENT", "")[:300]
    return AuditEntry.objects.create(
        actor=user,
        actor_name=getattr(user, "username", ""),
        action=action,
        target=target[:300],
        result=result,
        data=data or {},
        client_address=address,
        user_agent=agent,
        request_id=request_id(),
    )
