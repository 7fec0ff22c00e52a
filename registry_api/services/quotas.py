"""Namespace storage quotas: the one check in the push path, the limit's writer, the warnings.

What a namespace is charged: its stored bytes, each blob its repositories hold counted once
(registry_api.selectors.usage). A push is charged only the blobs new to the namespace, so
re-pushing or mounting a layer the namespace already holds is free. Why not charge
registry-wide exclusive bytes: they change when *another* tenant deletes a shared layer, which
would push a namespace over its limit without it doing anything; stored bytes depend on the
namespace's own content only. The difference is visible as exclusive vs stored bytes.

Checked where bytes arrive: when an upload completes (before the blob is stored, so docker
fails on the first layer that does not fit), when a blob is mounted from another namespace, and
when a manifest is pushed (its blobs are normally held already, so this catches content linked
another way). Two concurrent uploads may each pass and overshoot by one blob; no push that
starts after that does.

Warnings: after usage changes (services.usage), crossing 80 % publishes `quota_warning` and
reaching 100 % (or a refused push) publishes `quota_exceeded`, each once per crossing:
NamespaceQuota.warned_percent remembers the last level announced, and falls when usage does.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from registry_api.selectors import usage as usage_selectors
from registry_api.service_errors import QuotaExceeded

WARNING_PERCENT = 80


def bytes_human(value: int) -> str:
    """1.2 GiB, 300 MiB, 12 B: binary units, as the quota message gives them."""
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            break
        size /= 1024
    if unit == "B":
        return f"{value} B"
    return f"{size:.1f} {unit}".replace(".0 ", " ")


def quota_limit(namespace) -> int:
    """The namespace's limit in bytes; 0 is unlimited."""
    from hub.models import NamespaceQuota

    limit = (
        NamespaceQuota.objects.filter(namespace_id=namespace.pk)
        .values_list("limit_bytes", flat=True)
        .first()
    )
    return settings.DEFAULT_NAMESPACE_QUOTA_BYTES if limit is None else limit


def _refuse(*, namespace, used: int, new: int, limit: int, repository) -> None:
    # Protocol text, like every /v2/ message: English, stable for scripts that match it.
    message = (
        f"quota exceeded for namespace {namespace.name}: {bytes_human(used)} used"
        f" + {bytes_human(new)} new > {bytes_human(limit)} limit"
    )
    if not transaction.get_connection().in_atomic_block:
        _announce(namespace=namespace, repository=repository, used=used, limit=limit, level=100)
    raise QuotaExceeded(
        {"namespace": namespace.name, "used_bytes": used, "new_bytes": new, "limit_bytes": limit},
        message=message,
    )


def _check(*, repository, new: int) -> None:
    namespace = repository.namespace
    limit = quota_limit(namespace)
    if not limit or not new:
        return
    used = usage_selectors.namespace_stored_bytes(namespace)
    if used + new > limit:
        _refuse(namespace=namespace, used=used, new=new, limit=limit, repository=repository)


def quota_check_blob(*, repository, digest: str, size: int) -> None:
    """Refuse (QuotaExceeded) a blob that would take the namespace over its limit."""
    if not quota_limit(repository.namespace):
        return
    held = usage_selectors.namespace_holds_digest(repository.namespace, digest)
    _check(repository=repository, new=0 if held else size)


def quota_check_blobs(*, repository, blob_ids) -> None:
    """Refuse linking or referencing these blobs if those new to the namespace do not fit."""
    if not quota_limit(repository.namespace):
        return
    _check(
        repository=repository,
        new=usage_selectors.namespace_new_bytes(repository.namespace, blob_ids),
    )


def quota_check_transfer(*, repository, namespace) -> None:
    """Refuse (QuotaExceeded) moving a repository into a namespace its blobs would take over
    the limit (hub.services.transfers moves it; the views ask here first)."""
    limit = quota_limit(namespace)
    if not limit or namespace.pk == repository.namespace_id:
        return
    new = usage_selectors.namespace_new_bytes_of_repository(namespace, repository)
    used = usage_selectors.namespace_stored_bytes(namespace)
    if new and used + new > limit:
        raise QuotaExceeded(
            {
                "namespace": namespace.name,
                "used_bytes": used,
                "new_bytes": new,
                "limit_bytes": limit,
            },
            message=(
                f"quota exceeded for namespace {namespace.name}: {bytes_human(used)} used"
                f" + {bytes_human(new)} moved in > {bytes_human(limit)} limit"
            ),
        )


def quota_set(*, namespace, limit_bytes: int | None, actor, request=None):
    """Set (None: back to the default) a namespace's limit; audited as quota.set."""
    from hub.audit import audit_record
    from hub.models import NamespaceQuota

    with transaction.atomic():
        quota, _created = NamespaceQuota.objects.select_for_update().get_or_create(
            namespace=namespace
        )
        previous = quota.limit_bytes
        quota.limit_bytes = limit_bytes
        quota.updated_at = timezone.now()
        quota.save(update_fields=["limit_bytes", "updated_at"])
        audit_record(
            action="quota.set",
            actor=actor,
            target=namespace.name,
            data={"limit_bytes": limit_bytes, "previous_limit_bytes": previous},
            request=request,
        )
    # A lowered limit may put the namespace over a threshold already.
    repository_ids = list(
        namespace.repositories.order_by("-updated_at").values_list("pk", flat=True)[:1]
    )
    transaction.on_commit(lambda: quota_warnings_check(repository_ids=repository_ids))
    return quota


def _level(used: int, limit: int) -> int:
    if used >= limit:
        return 100
    if used * 100 >= WARNING_PERCENT * limit:
        return WARNING_PERCENT
    return 0


def _announce(*, namespace, repository, used: int, limit: int, level: int) -> None:
    """Publish the event of `level` unless it (or a higher one) was announced already."""
    from hub.models import NamespaceQuota
    from webhooks.services.events import event_publish

    with transaction.atomic():
        quota, _created = NamespaceQuota.objects.get_or_create(namespace=namespace)
        raised = NamespaceQuota.objects.filter(pk=quota.pk, warned_percent__lt=level).update(
            warned_percent=level
        )
        if not raised:
            return
        event_publish(
            action="quota_exceeded" if level >= 100 else "quota_warning",
            repository=repository,
            data={
                "namespace": namespace.name,
                "used_bytes": used,
                "limit_bytes": limit,
                "percent": round(used * 100 / limit, 1),
            },
        )


def quota_warnings_check(*, repository_ids) -> None:
    """After usage changed in these repositories: announce thresholds their namespaces crossed,
    and lower the remembered level of those back under one."""
    from hub.models import NamespaceQuota, Repository

    seen = set()
    for repository in Repository.objects.filter(pk__in=list(repository_ids)).select_related(
        "namespace"
    ):
        namespace = repository.namespace
        if namespace.pk in seen:
            continue
        seen.add(namespace.pk)
        limit = quota_limit(namespace)
        if not limit:
            continue
        used = usage_selectors.namespace_stored_bytes(namespace)
        level = _level(used, limit)
        if level:
            _announce(
                namespace=namespace, repository=repository, used=used, limit=limit, level=level
            )
        NamespaceQuota.objects.filter(namespace=namespace, warned_percent__gt=level).update(
            warned_percent=level
        )
