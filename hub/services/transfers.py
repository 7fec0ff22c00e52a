"""Renaming and transferring repositories, and the redirects their old names leave behind.

A repository keeps its row when it moves, so everything that points at it by key moves with
it: tags, tag history, manifests, stars, comments, collaborators, webhooks, retention and
immutability rules of the repository, usage counters. What belongs to the namespace it
leaves does not follow it into another one: that namespace's team grants and robot grants on
it are dropped (another organization's teams and robots have no business there).

The old name becomes a RepositoryRedirect: pulls, pages and API calls of it reach the
repository (for callers who may see it) until a repository is created at the old name or an
owner removes the redirect. Callers check permissions (hub.permissions.can_transfer,
can_create on the destination) before calling.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hub import grant_versions
from hub.audit import audit_record
from hub.models import Namespace, Repository, RepositoryRedirect, RobotPermission, TeamRepository
from hub.names import validate_repository_name
from webhooks.services.events import event_publish

# distribution-spec: a full name (namespace/name) stays under 256 characters.
MAX_FULL_NAME_LENGTH = 255


def _validate_destination(repository: Repository, namespace: Namespace, name: str) -> None:
    if repository.mirror_of:
        raise ValidationError(
            {"name": _("A mirrored repository keeps the name its upstream serves.")}
        )
    validate_repository_name(name)
    if len(f"{namespace.name}/{name}") > MAX_FULL_NAME_LENGTH:
        raise ValidationError(
            {
                "name": _("The full name must be at most %(max)d characters.")
                % {"max": MAX_FULL_NAME_LENGTH}
            }
        )
    if namespace.pk == repository.namespace_id and name == repository.name:
        raise ValidationError({"name": _("That is the repository's current name.")})
    if Repository.objects.filter(namespace=namespace, name=name).exists():
        raise ValidationError({"name": _("A repository with this name already exists.")})


@transaction.atomic
def repository_transfer(
    *, repository: Repository, namespace: Namespace, name: str, actor=None
) -> Repository:
    """Move `repository` to `namespace/name`, leaving a redirect at its old name; raise
    ValidationError for a bad, taken or unchanged name."""
    try:
        _validate_destination(repository, namespace, name)
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise ValidationError({"name": exc.messages}) from exc
        raise
    old_namespace, old_name, old_full_name = (
        repository.namespace,
        repository.name,
        repository.full_name,
    )
    moved_namespace = namespace.pk != old_namespace.pk
    grant_versions.repository_changed(repository)  # tokens for the old name decide again
    # The new name may be another repository's old name: taking it ends that redirect.
    RepositoryRedirect.objects.filter(namespace=namespace, name=name).delete()
    repository.namespace, repository.name = namespace, name
    repository.updated_at = timezone.now()
    try:
        with transaction.atomic():
            repository.save(update_fields=["namespace", "name", "updated_at"])
    except IntegrityError as exc:  # a concurrent create or transfer took the name
        raise ValidationError({"name": _("A repository with this name already exists.")}) from exc
    RepositoryRedirect.objects.create(
        namespace=old_namespace,
        name=old_name,
        repository=repository,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    if moved_namespace:
        TeamRepository.objects.filter(repository=repository).delete()
        RobotPermission.objects.filter(repository=repository).delete()
    grant_versions.repository_changed(repository)
    action = "repository.transfer" if moved_namespace else "repository.rename"
    data = {"from": old_full_name, "to": repository.full_name}
    audit_record(action=action, actor=actor, target=repository.full_name, data=data)
    if moved_namespace:  # the namespace it left sees where it went, as the one it joined does
        audit_record(
            action=action,
            actor=actor,
            target=old_full_name,
            namespace=old_namespace.name,
            data=data,
        )
    event_publish(
        action="repository_rename",
        repository=repository,
        actor=actor,
        data={
            "repository": repository.full_name,
            "previous_name": old_full_name,
        },
    )
    return repository


def redirect_remove_at(*, namespace: Namespace, name: str) -> None:
    """A repository is being created at `namespace/name`: a redirect there ends (the name is
    reused). Audited, since pulls of the old name stop reaching the moved repository."""
    redirect = (
        RepositoryRedirect.objects.select_related("repository__namespace")
        .filter(namespace=namespace, name=name)
        .first()
    )
    if redirect is None:
        return
    target = redirect.repository.full_name
    redirect.delete()
    audit_record(
        action="repository.redirect_delete",
        target=f"{namespace.name}/{name}",
        namespace=redirect.repository.namespace.name,
        data={"repository": target, "reason": "name reused"},
    )


@transaction.atomic
def redirect_delete(*, redirect: RepositoryRedirect, actor=None) -> None:
    """Remove an old name: from now on it is unknown, like any name nobody holds."""
    repository = redirect.repository
    old_full_name = redirect.full_name
    redirect.delete()
    grant_versions.repository_changed(repository)
    audit_record(
        action="repository.redirect_delete",
        actor=actor,
        target=old_full_name,
        namespace=repository.namespace.name,
        data={"repository": repository.full_name},
    )
