"""Import a registry:2 storage directory: its repositories, manifests, tags and blobs.

Everything goes through the same doors as a push: blobs are hashed while they stream into the
configured blob store (filesystem or S3) and refused when their content does not match their
digest; manifests are validated and stored by services.manifests (so layers, platforms, sizes and
`subject` referrers are recorded as if pushed), children before the indexes that list them; tags
are pointed by services.tags.tag_import, which publishes no event (an import is no storm of push
webhooks).

Each write stands alone, so an interrupted import resumes where it stopped, and a second run
finds everything present: blobs already stored are skipped by digest, manifests by digest, tags
already at the same digest are left (one pointing elsewhere is moved, and reported).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from hub.models import Namespace
from hub.names import PATH_COMPONENT_RE, REPOSITORY_PATH_RE, TAG_RE, name_canonical
from hub.reserved_names import namespace_name_check
from hub.selectors import namespace_get, repository_get
from hub.services.organizations import organization_create
from hub.services.repositories import repository_create
from registry_api import storage
from registry_api.digests import hasher_new
from registry_api.models import Manifest, ProxyCache, RepositoryBlob
from registry_api.names import MAX_NAME_LENGTH
from registry_api.registry2_layout import Layout, LayoutProblem, LayoutRepository
from registry_api.service_errors import ServiceError
from registry_api.services.blobs import blob_link, blob_register
from registry_api.services.manifests import ValidManifest, manifest_push, manifest_validate
from registry_api.services.tags import tag_import


class ImportRefused(Exception):
    """The import cannot start (names, namespaces, owner); nothing was written."""


@dataclass(frozen=True)
class ImportTarget:
    source: LayoutRepository
    namespace: str
    name: str

    @property
    def full_name(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass
class RepositoryReport:
    """What importing one repository did (or, in a dry run, would do)."""

    target: ImportTarget
    created: bool = False
    tags: int = 0
    tags_new: int = 0
    tags_moved: list[str] = field(default_factory=list)
    manifests: int = 0
    manifests_new: int = 0
    blobs: int = 0
    blobs_copied: int = 0
    bytes_copied: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        """Entries already in Dockyard, left as they were."""
        unchanged_tags = self.tags - self.tags_new - len(self.tags_moved)
        return (
            unchanged_tags
            + (self.manifests - self.manifests_new)
            + (self.blobs - self.blobs_copied)
        )


# Naming


def targets_plan(layout: Layout, *, namespace: str = "") -> list[ImportTarget]:
    """Where each registry:2 repository goes: `centos` to `library/centos` (or `NS/centos`
    with a namespace), `team/app` to namespace `team`. ImportRefused lists invalid names."""
    if namespace and not PATH_COMPONENT_RE.fullmatch(namespace):
        raise ImportRefused(f"--namespace {namespace!r} is not a valid namespace name")
    targets, invalid = [], []
    for source in layout.repositories():
        full_name = f"{namespace}/{source.name}" if namespace else name_canonical(source.name)
        if len(full_name) > MAX_NAME_LENGTH or not REPOSITORY_PATH_RE.fullmatch(full_name):
            invalid.append(source.name)
            continue
        namespace_name, _, name = full_name.partition("/")
        targets.append(ImportTarget(source=source, namespace=namespace_name, name=name))
    if invalid:
        raise ImportRefused(
            "these repository names are not valid here: " + ", ".join(sorted(invalid))
        )
    _targets_distinct(targets)
    return targets


def _targets_distinct(targets: list[ImportTarget]) -> None:
    """`centos` and `library/centos` both become library/centos: refuse rather than merge."""
    sources: dict[str, list[str]] = {}
    for target in targets:
        sources.setdefault(target.full_name, []).append(target.source.name)
    clashes = [
        f"{' and '.join(names)} -> {name}" for name, names in sources.items() if len(names) > 1
    ]
    if clashes:
        raise ImportRefused(
            "these repositories would become one: "
            + "; ".join(clashes)
            + " (import under another namespace with --namespace NS)"
        )


def namespaces_missing(targets: Iterable[ImportTarget]) -> list[str]:
    wanted = sorted({target.namespace for target in targets})
    present = set(Namespace.objects.filter(name__in=wanted).values_list("name", flat=True))
    return [name for name in wanted if name not in present]


def namespaces_prepare(targets: list[ImportTarget], *, owner: str = "", dry_run: bool) -> list[str]:
    """Create the missing namespaces as organizations owned by `owner`; return their names.

    Refused (nothing created) when a namespace is a pull-through cache, when one is missing
    and no existing owner is named, or when a name cannot become an organization (reserved, or
    too close to an existing name).
    """
    mirrors = sorted(
        set(
            ProxyCache.objects.filter(
                namespace__in={target.namespace for target in targets}
            ).values_list("namespace", flat=True)
        )
    )
    if mirrors:
        raise ImportRefused(
            "these namespaces are pull-through caches, which nobody pushes to: "
            + ", ".join(mirrors)
            + " (import under another namespace with --namespace NS)"
        )
    missing = namespaces_missing(targets)
    if not missing:
        return []
    if not owner:
        raise ImportRefused(
            "these namespaces do not exist: "
            + ", ".join(missing)
            + ". Name the user who will own them as organizations with --owner USERNAME "
            "(or import under one namespace with --namespace NS)"
        )
    user = get_user_model().objects.filter(username=owner, is_active=True).first()
    if user is None:
        raise ImportRefused(f"--owner {owner!r}: no active user has that username")
    refused = []
    for name in missing:
        try:
            namespace_name_check(name)
        except ValidationError as exc:
            refused.append(f"{name} ({' '.join(exc.messages)})")
    if refused:
        raise ImportRefused("cannot create these organizations: " + "; ".join(refused))
    if not dry_run:
        with transaction.atomic():  # all of them or none
            for name in missing:
                organization_create(owner=user, name=name)
    return missing


# One repository


class _Context:
    """One repository's import in progress: the layout, the target row, the report."""

    def __init__(self, layout: Layout, target: ImportTarget, dry_run: bool, stored: set[str]):
        self.layout = layout
        self.dry_run = dry_run
        self.stored = stored
        self.report = RepositoryReport(target=target)
        self.repository = repository_get(namespace=target.namespace, name=target.name)
        # Digests this repository holds (or, in a dry run, would hold) after each step.
        self.blobs_held: set[str] = set()
        self.manifests_held: set[str] = set()

    def problem(self, message: str) -> None:
        self.report.problems.append(message)


def repository_import(
    *, layout: Layout, target: ImportTarget, dry_run: bool, stored: set[str]
) -> RepositoryReport:
    """Import one repository: its blobs, then its manifests (children first), then its tags.

    `stored` holds the digests this run copied (or, in a dry run, would have): a blob that two
    repositories link is copied once, and a dry run counts it once as well.
    """
    context = _Context(layout, target, dry_run, stored)
    if context.repository is None:
        if not _repository_create(context):
            return context.report
    else:
        context.blobs_held = set(
            RepositoryBlob.objects.filter(repository=context.repository).values_list(
                "blob__digest", flat=True
            )
        )
        context.manifests_held = set(
            Manifest.objects.filter(repository=context.repository).values_list("digest", flat=True)
        )
    _blobs_import(context)
    _manifests_import(context)
    _tags_import(context)
    return context.report


def _repository_create(context: _Context) -> bool:
    context.report.created = True
    if context.dry_run:
        return True
    target = context.report.target
    try:
        context.repository = repository_create(
            namespace=namespace_get(name=target.namespace),
            name=target.name,
            is_private=settings.DEFAULT_VISIBILITY == "private",
        )
    except ValidationError as exc:
        context.problem(f"cannot create {target.full_name}: {' '.join(exc.messages)}")
        return False
    return True


# Blobs


def _blobs_import(context: _Context) -> None:
    store = storage.blobs()
    for entry in context.layout.layers(context.report.target.source):
        if isinstance(entry, LayoutProblem):
            context.problem(str(entry))
            continue
        context.report.blobs += 1
        try:
            size = context.layout.blob_size(entry)
            if entry not in context.stored and not store.exists(entry):
                blob_copy(layout=context.layout, digest=entry, dry_run=context.dry_run)
                context.stored.add(entry)
                context.report.blobs_copied += 1
                context.report.bytes_copied += size
        except LayoutProblem as problem:
            context.problem(str(problem))
            continue
        except storage.StorageUnavailable as exc:
            context.problem(f"blob {entry}: storage refused it: {exc}")
            continue
        if not context.dry_run and entry not in context.blobs_held:
            blob_link(repository=context.repository, blob=blob_register(digest=entry, size=size))
        context.blobs_held.add(entry)


def blob_copy(*, layout: Layout, digest: str, dry_run: bool = False) -> None:
    """Stream a registry:2 blob into the blob store, hashing it on the way (constant memory);
    LayoutProblem, and nothing stored, when its content does not match its digest."""
    source = layout.blob_data(digest)
    hasher = hasher_new(digest.partition(":")[0])
    handle, staged = tempfile.mkstemp(dir=storage.staging_dir(), prefix="import-")
    staged = Path(staged)
    try:
        with open(source, "rb") as reader, os.fdopen(handle, "wb") as writer:
            while chunk := reader.read(storage.READ_CHUNK):
                hasher.update(chunk)
                if not dry_run:
                    writer.write(chunk)
        actual = f"{hasher.name}:{hasher.hexdigest()}"
        if actual != digest:
            raise LayoutProblem(
                f"blob {digest} is corrupt: its data ({source}) hashes to {actual}; refused"
            )
        if not dry_run:
            storage.blobs().put_verified(digest, staged)
    except OSError as exc:
        raise LayoutProblem(f"blob {digest}: cannot read {source}: {exc.strerror or exc}") from None
    finally:
        staged.unlink(missing_ok=True)


# Manifests


def _manifest_read(layout: Layout, digest: str) -> ValidManifest:
    """The manifest's bytes from the blob store of registry:2, checked as a push checks them."""
    path = layout.blob_data(digest)
    limit = settings.REGISTRY_MAX_MANIFEST_BYTES
    try:
        with open(path, "rb") as handle:
            body = handle.read(limit + 1)
    except OSError:
        raise LayoutProblem(f"manifest {digest} has no data file ({path})") from None
    try:
        return manifest_validate(reference=digest, body=body, content_type=None)
    except ServiceError as exc:
        hint = ""
        if isinstance(exc.detail, dict) and exc.detail.get("schemaVersion") == 1:
            hint = " (a Docker schema 1 manifest: push the image again with a current client)"
        raise LayoutProblem(f"manifest {digest}: {exc.message}{hint}") from None


def _children_first(manifests: dict[str, ValidManifest]) -> list[str]:
    """Digests ordered so that every index comes after the manifests it lists."""
    ordered: list[str] = []
    placed: set[str] = set()

    def place(digest: str, path: tuple[str, ...]) -> None:
        if digest in placed or digest in path or digest not in manifests:
            return
        for child in manifests[digest].parsed.child_digests:
            place(child, (*path, digest))
        placed.add(digest)
        ordered.append(digest)

    for digest in sorted(manifests):
        place(digest, ())
    return ordered


def _manifests_import(context: _Context) -> None:
    manifests: dict[str, ValidManifest] = {}
    for entry in context.layout.revisions(context.report.target.source):
        if isinstance(entry, LayoutProblem):
            context.problem(str(entry))
            continue
        context.report.manifests += 1
        try:
            manifests[entry] = _manifest_read(context.layout, entry)
        except LayoutProblem as problem:
            context.problem(str(problem))
    for digest in _children_first(manifests):
        if digest in context.manifests_held:
            continue
        try:
            _manifest_store(context, manifests[digest])
        except ServiceError as exc:
            context.problem(f"manifest {digest}: {exc.message}: {exc.detail}")
            continue
        context.manifests_held.add(digest)
        context.report.manifests_new += 1


def _manifest_store(context: _Context, valid: ValidManifest) -> None:
    if not context.dry_run:
        manifest_push(repository=context.repository, valid=valid, actor=None)
        return
    # A dry run writes nothing: check the references against what the import would hold.
    parsed = valid.parsed
    missing = [d for d in parsed.required_blob_digests if d not in context.blobs_held]
    missing += [d for d in parsed.child_digests if d not in context.manifests_held]
    if missing:
        raise ServiceError({"missing": missing[:10]}, message="references what was not imported")


# Tags


def _tags_import(context: _Context) -> None:
    target = context.report.target
    for name, entry, mtime in context.layout.tags(target.source):
        if isinstance(entry, LayoutProblem):
            context.problem(f"tag {name}: {entry}")
            continue
        if not TAG_RE.fullmatch(name):
            context.problem(f"tag {name!r} is not a valid tag name; skipped")
            continue
        context.report.tags += 1
        if entry not in context.manifests_held:
            context.problem(f"tag {name} points at {entry}, which was not imported")
            continue
        outcome = _tag_point(context, name, entry, mtime)
        if outcome == "created":
            context.report.tags_new += 1
        elif outcome.startswith("moved"):
            context.report.tags_moved.append(f"{name} {outcome}")


def _tag_point(context: _Context, name: str, digest: str, mtime: float) -> str:
    current = None
    if context.repository is not None:
        current = (
            context.repository.tags.filter(name=name)
            .values_list("manifest__digest", flat=True)
            .first()
        )
    if current == digest:
        return "same"
    moved = "created" if current is None else f"moved from {current} to {digest}"
    if not context.dry_run:
        manifest = Manifest.objects.get(repository=context.repository, digest=digest)
        pushed_at = datetime.fromtimestamp(mtime, tz=UTC)
        tag_import(repository=context.repository, name=name, manifest=manifest, pushed_at=pushed_at)
    return moved
