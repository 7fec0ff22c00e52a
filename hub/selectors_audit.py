"""Reads of the audit log, and who may read which entries."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from hub.models import AuditEntry, Namespace


def audit_admin(user) -> bool:
    """Administrators read every entry (the admin site's view permission on entries)."""
    return user.is_active and (
        user.is_superuser or (user.is_staff and user.has_perm("hub.view_auditentry"))
    )


def audit_list_own(*, user) -> QuerySet[AuditEntry]:
    """A user's security log: what they did, and what was done to their own namespace (its
    repositories, failed sign-ins as them). Entries of others' namespaces appear only when
    the user was the actor, so nothing of a private repository they cannot see shows."""
    return AuditEntry.objects.filter(Q(actor=user) | Q(namespace=user.username))


def audit_list_namespace(*, namespace: Namespace) -> QuerySet[AuditEntry]:
    """An organization's log, for its owners (who see all of its repositories)."""
    return AuditEntry.objects.filter(namespace=namespace.name)


def audit_list_all() -> QuerySet[AuditEntry]:
    return AuditEntry.objects.all()


def audit_filter(
    queryset: QuerySet[AuditEntry],
    *,
    actor: str = "",
    action: str = "",
    target: str = "",
    result: str = "",
    actor_kind: str = "",
    since=None,
    until=None,
) -> QuerySet[AuditEntry]:
    """`action` is exact, or a prefix when it ends with `.` (`webhook.`); `target` a prefix."""
    if actor:
        queryset = queryset.filter(actor_name=actor)
    if action:
        if action.endswith("."):
            queryset = queryset.filter(action__startswith=action)
        else:
            queryset = queryset.filter(action=action)
    if target:
        queryset = queryset.filter(target__startswith=target)
    if result:
        queryset = queryset.filter(result=result)
    if actor_kind:
        queryset = queryset.filter(actor_kind=actor_kind)
    if since is not None:
        queryset = queryset.filter(created_at__gte=since)
    if until is not None:
        queryset = queryset.filter(created_at__lt=until)
    return queryset.order_by("-created_at", "-pk")
