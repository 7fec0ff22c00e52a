"""Writes to repositories. Callers check permissions (hub.permissions) before calling."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hub.models import Namespace, Repository
from webhooks.services.events import event_publish

EDITABLE_FIELDS = ("description", "full_description", "is_private", "comments_enabled")


@transaction.atomic
def repository_create(
    *,
    namespace: Namespace,
    name: str,
    actor=None,
    description: str = "",
    full_description: str = "",
    is_private: bool = False,
    mirror_of: str = "",
) -> Repository:
    """Create a repository; raise ValidationError for a bad or taken name."""
    repository = Repository(
        namespace=namespace,
        name=name,
        description=description,
        full_description=full_description,
        is_private=is_private,
        mirror_of=mirror_of,
    )
    repository.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            repository.save()
    except IntegrityError as exc:
        raise ValidationError({"name": _("A repository with this name already exists.")}) from exc
    event_publish(
        action="repository_create",
        repository=repository,
        actor=actor,
        data={"repository": repository.full_name},
    )
    return repository


@transaction.atomic
def repository_update(*, repository: Repository, actor=None, **changes) -> Repository:
    """Change the editable fields named in `changes`; others are ignored."""
    fields = [field for field in EDITABLE_FIELDS if field in changes]
    for field in fields:
        setattr(repository, field, changes[field])
    repository.updated_at = timezone.now()
    repository.full_clean(validate_unique=False)
    repository.save(update_fields=[*fields, "updated_at"])
    return repository


@transaction.atomic
def repository_delete(*, repository: Repository, actor=None) -> None:
    """Delete a repository and everything in it; blobs are left to garbage collection.

    The repository's own hooks outlive it (their repository is set to NULL, not cascaded) until
    the repository_delete event published here has been delivered to them.
    """
    event_publish(
        action="repository_delete",
        repository=repository,
        actor=actor,
        data={"repository": repository.full_name},
    )
    repository.delete()
