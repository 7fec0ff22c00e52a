"""Writes to repositories. Callers check permissions (hub.permissions) before calling."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hub import grant_versions
from hub.audit import audit_record
from hub.models import Namespace, Repository
from hub.services.image_metadata import owner_set
from hub.services.transfers import redirect_remove_at
from webhooks.services.events import event_publish

EDITABLE_FIELDS = (
    "description",
    "full_description",
    "is_private",
    "comments_enabled",
    "source_url",
    "documentation_url",
    "homepage_url",
    "license",
    "require_signature",
)


def default_is_private() -> bool:
    """Whether a new repository is private when its creator does not say (DEFAULT_VISIBILITY):
    a first push, the UI form's initial choice, the REST API without `is_private`."""
    return settings.DEFAULT_VISIBILITY == "private"


@transaction.atomic
def repository_create(
    *,
    namespace: Namespace,
    name: str,
    actor=None,
    description: str = "",
    full_description: str = "",
    is_private: bool | None = None,
    mirror_of: str = "",
) -> Repository:
    """Create a repository (private or not as `is_private` says, else DEFAULT_VISIBILITY);
    raise ValidationError for a bad or taken name."""
    repository = Repository(
        namespace=namespace,
        name=name,
        description=description,
        full_description=full_description,
        is_private=default_is_private() if is_private is None else is_private,
        mirror_of=mirror_of,
    )
    repository.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            repository.save()
    except IntegrityError as exc:
        raise ValidationError({"name": _("A repository with this name already exists.")}) from exc
    # The name may be a moved repository's old one: reusing it ends that redirect.
    redirect_remove_at(namespace=namespace, name=name)
    audit_record(
        action="repository.create",
        actor=actor,
        target=repository.full_name,
        data={"is_private": repository.is_private},
    )
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
    was_private = repository.is_private
    # A field the owner changes is theirs from now on: pushed images no longer fill it.
    owner_set(
        repository, [field for field in fields if getattr(repository, field) != changes[field]]
    )
    for field in fields:
        setattr(repository, field, changes[field])
    repository.updated_at = timezone.now()
    repository.full_clean(validate_unique=False)
    repository.save(update_fields=[*fields, "metadata_from_image", "updated_at"])
    grant_versions.repository_changed(repository)  # e.g. made private
    if repository.is_private != was_private:
        audit_record(
            action="repository.visibility",
            actor=actor,
            target=repository.full_name,
            data={"is_private": repository.is_private},
        )
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
    grant_versions.repository_changed(repository)
    audit_record(action="repository.delete", actor=actor, target=repository.full_name)
    repository.delete()


def repository_touch(*, repository: Repository) -> None:
    """Mark the repository as changed now (its content changed; lists sort on updated_at)."""
    Repository.objects.filter(pk=repository.pk).update(updated_at=timezone.now())
