"""Keep each user's namespace in step with the account, however the account was made."""

from __future__ import annotations

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver

from hub.models import Namespace


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def user_namespace_sync(sender, instance, created: bool, **kwargs) -> None:
    if kwargs.get("raw"):
        return
    namespace = Namespace.objects.filter(user=instance).first()
    if namespace is None:
        Namespace.objects.create(name=instance.username, kind=Namespace.Kind.USER, user=instance)
    elif namespace.name != instance.username:
        namespace.name = instance.username
        namespace.save(update_fields=["name"])
