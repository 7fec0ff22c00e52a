"""Storage usage, exact and deduplicated, computed by SQL aggregates over the registry's records.

Definitions (bytes are blob sizes: configs and layers; manifests live in the database and are not
counted):

- A repository *holds* a blob when it links it (pushed, mounted or cached: RepositoryBlob), when
  one of its manifests references it, or when one of its live tombstones does (a deleted manifest
  kept restorable for TAG_RESTORE_SECONDS). Garbage collection keeps exactly these blobs.
- **logical bytes**: the sum, over the repository's distinct manifests, of the sizes of the blobs
  each references. A layer shared by two images counts twice (as users add up image sizes); two
  tags on one manifest count it once (Docker Hub shows a size per image, not per tag). An index
  references no blobs itself: its children are manifests of the repository and count as such.
- **stored bytes**: the blobs the repository holds, each counted once.
- **exclusive bytes**: the blobs only this repository holds, i.e. what deleting the repository and
  collecting garbage frees. A blob another repository holds (link, manifest or live tombstone)
  is excluded.
- A namespace: the same over its repositories (stored counts a blob once in the namespace;
  exclusive excludes blobs held by any repository outside the namespace).
- Exclusive bytes of a set of manifests (`exclusive_bytes_of`, a tag): the blobs these manifests
  reference that no other manifest anywhere references, no live tombstone keeps, and no other
  repository links. Links of the manifests' own repositories do not count: they are upload
  records, dropped with the manifests that needed them. Deleting a manifest first keeps it as a
  tombstone, so these bytes are freed once the restore window has passed.

Each figure is one aggregate query (NOT EXISTS subqueries on indexed foreign keys), whatever the
repository's size. The quota (registry_api.services.quotas) charges a namespace its stored bytes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, Sum
from django.utils import timezone

from registry_api.models import Blob, Manifest, ManifestTombstone, RepositoryBlob, Tag

ManifestBlob = Manifest.blobs.through
TombstoneBlob = ManifestTombstone.blobs.through


@dataclass(frozen=True)
class Usage:
    logical_bytes: int
    stored_bytes: int
    exclusive_bytes: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _live_cutoff():
    return timezone.now() - timedelta(seconds=settings.TAG_RESTORE_SECONDS)


def _sum(queryset) -> int:
    return queryset.aggregate(total=Sum("size"))["total"] or 0


def _on(prefix: str, scope: dict) -> Q:
    """`scope` (lookups on a row's repository, e.g. {"repository_id": 3}) seen from a relation."""
    return Q(**{f"{prefix}{lookup}": value for lookup, value in scope.items()})


def _held_within(scope: dict):
    """The blobs held within `scope`: linked, referenced by a manifest, kept by a tombstone."""
    links = RepositoryBlob.objects.filter(_on("", scope)).values("blob_id")
    referenced = ManifestBlob.objects.filter(_on("manifest__", scope)).values("blob_id")
    kept = TombstoneBlob.objects.filter(
        _on("manifesttombstone__", scope), manifesttombstone__deleted_at__gte=_live_cutoff()
    ).values("blob_id")
    return Blob.objects.filter(Q(pk__in=links) | Q(pk__in=referenced) | Q(pk__in=kept))


def _held_outside(scope: dict):
    """A condition on the outer blob: some repository outside `scope` holds it."""
    blob = OuterRef("pk")
    linked = RepositoryBlob.objects.filter(blob_id=blob).exclude(_on("", scope))
    referenced = ManifestBlob.objects.filter(blob_id=blob).exclude(_on("manifest__", scope))
    kept = TombstoneBlob.objects.filter(
        blob_id=blob, manifesttombstone__deleted_at__gte=_live_cutoff()
    ).exclude(_on("manifesttombstone__", scope))
    return Exists(linked) | Exists(referenced) | Exists(kept)


def _logical(scope: dict) -> int:
    rows = ManifestBlob.objects.filter(_on("manifest__", scope))
    return rows.aggregate(total=Sum("blob__size"))["total"] or 0


def _usage(scope: dict) -> Usage:
    held = _held_within(scope)
    return Usage(
        logical_bytes=_logical(scope),
        stored_bytes=_sum(held),
        exclusive_bytes=_sum(held.exclude(_held_outside(scope))),
    )


def repository_scope(repository) -> dict:
    return {"repository_id": repository.pk}


def namespace_scope(namespace) -> dict:
    return {"repository__namespace_id": namespace.pk}


def repository_usage(repository) -> Usage:
    """Logical, stored and exclusive bytes of one repository (definitions above)."""
    return _usage(repository_scope(repository))


def namespace_usage(namespace) -> Usage:
    """The same over every repository of the namespace."""
    return _usage(namespace_scope(namespace))


def repository_exclusive_bytes(repository) -> int:
    scope = repository_scope(repository)
    return _sum(_held_within(scope).exclude(_held_outside(scope)))


def namespace_exclusive_bytes(namespace) -> int:
    scope = namespace_scope(namespace)
    return _sum(_held_within(scope).exclude(_held_outside(scope)))


def repository_logical_stored(repository) -> tuple[int, int]:
    """The two counters kept on the repository row (services.usage), in two queries."""
    scope = repository_scope(repository)
    return _logical(scope), _sum(_held_within(scope))


def namespace_stored_bytes(namespace) -> int:
    """What the quota charges: each blob held by the namespace's repositories, once."""
    return _sum(_held_within(namespace_scope(namespace)))


def namespace_new_bytes(namespace, blob_ids) -> int:
    """The bytes of these blobs that the namespace does not hold yet: what storing them costs
    its quota (a layer already held anywhere in the namespace is free)."""
    held = _held_within(namespace_scope(namespace)).values("pk")
    return _sum(Blob.objects.filter(pk__in=list(blob_ids)).exclude(pk__in=held))


def namespace_new_bytes_of_repository(namespace, repository) -> int:
    """What moving `repository` into `namespace` costs its quota: the bytes of the blobs the
    repository holds that the namespace does not hold yet."""
    blob_ids = _held_within(repository_scope(repository)).values_list("pk", flat=True)
    return namespace_new_bytes(namespace, blob_ids)


def namespace_holds_digest(namespace, digest: str) -> bool:
    return _held_within(namespace_scope(namespace)).filter(digest=digest).exists()


def exclusive_bytes_of(manifest_ids) -> int:
    """Bytes that deleting these manifests (and collecting garbage after the restore window)
    frees: blobs they reference that nothing outside the set keeps (definitions above)."""
    ids = list(manifest_ids)
    if not ids:
        return 0
    repository_ids = Manifest.objects.filter(pk__in=ids).values("repository_id")
    others_reference = ManifestBlob.objects.filter(blob_id=OuterRef("pk")).exclude(
        manifest_id__in=ids
    )
    tombstones_keep = TombstoneBlob.objects.filter(
        blob_id=OuterRef("pk"), manifesttombstone__deleted_at__gte=_live_cutoff()
    )
    others_link = RepositoryBlob.objects.filter(blob_id=OuterRef("pk")).exclude(
        repository_id__in=repository_ids
    )
    referenced = ManifestBlob.objects.filter(manifest_id__in=ids).values("blob_id")
    freed = Blob.objects.filter(pk__in=referenced).exclude(
        Exists(others_reference) | Exists(tombstones_keep) | Exists(others_link)
    )
    return _sum(freed)


def tag_manifest_ids(repository, tag: str) -> list[int]:
    """The manifests deleting this tag would take: its manifest, unless another tag or an index
    keeps it, and the children of an index that no other index or tag keeps."""
    manifest = Tag.objects.filter(repository=repository, name=tag).values("manifest_id").first()
    if manifest is None:
        return []
    root = manifest["manifest_id"]
    if Tag.objects.filter(manifest_id=root).exclude(repository=repository, name=tag).exists():
        return []
    if Manifest.children.through.objects.filter(to_manifest_id=root).exists():
        return []
    children = Manifest.children.through.objects.filter(from_manifest_id=root).values_list(
        "to_manifest_id", flat=True
    )
    kept = set(
        Manifest.children.through.objects.filter(to_manifest_id__in=children)
        .exclude(from_manifest_id=root)
        .values_list("to_manifest_id", flat=True)
    ) | set(Tag.objects.filter(manifest_id__in=children).values_list("manifest_id", flat=True))
    return [root, *(child for child in children if child not in kept)]


def tag_exclusive_bytes(repository, tag: str) -> int:
    """What deleting this tag would free in the whole registry (0 when the manifest stays)."""
    return exclusive_bytes_of(tag_manifest_ids(repository, tag))
