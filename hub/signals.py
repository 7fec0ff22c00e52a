"""Keep each user's namespace in step with the account, however the account was made."""

from __future__ import annotations

from django.conf import settings
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from hub import grant_versions
from hub.audit import audit_record
from hub.models import Namespace


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def user_namespace_sync(sender, instance, created: bool, **kwargs) -> None:
    if kwargs.get("raw") or "+" in instance.username:
        return  # a robot (`ns+name`) owns no namespace
    namespace = Namespace.objects.filter(user=instance).first()
    if namespace is None:
        Namespace.objects.create(name=instance.username, kind=Namespace.Kind.USER, user=instance)
    elif namespace.name != instance.username:
        namespace.name = instance.username
        namespace.save(update_fields=["name"])


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
@receiver(post_delete, sender=settings.AUTH_USER_MODEL)
def user_grants_changed(sender, instance, **kwargs) -> None:
    """A password change, deactivation or deletion (from any form, the admin or the shell)
    ends the registry tokens issued before: their next write or private pull re-checks."""
    if kwargs.get("update_fields") != frozenset({"last_login"}):
        grant_versions.user_changed(instance.pk)


@receiver(user_logged_in)
def login_audit(sender, request, user, **kwargs) -> None:
    """A web or admin sign-in (a session starts): one entry per sign-in, not per request."""
    audit_record(
        action="login",
        actor=user,
        target=user.username,
        namespace=user.username,
        data={"via": "web"},
        request=request,
    )


@receiver(post_save, sender=LogEntry)
def admin_action_audit(sender, instance: LogEntry, created: bool, **kwargs) -> None:
    """Every add, change and delete made on the admin site (Django logs each as a LogEntry)."""
    if not created:
        return
    verb = {ADDITION: "add", CHANGE: "change", DELETION: "delete"}.get(instance.action_flag, "")
    model = instance.content_type.model if instance.content_type_id else ""
    audit_record(
        action=f"admin.{verb or 'action'}",
        actor=instance.user,
        target=f"{model}:{instance.object_repr}"[:300],
        namespace="",
        data={"model": model, "object_id": instance.object_id or ""},
    )
