"""Manifest writes: push (validate, store, link, tag) and delete by digest.

A push is one transaction: the Manifest row with its exact bytes, its links to the blobs and
child manifests it references, the tag (if pushed by tag) and the push event. References are
checked against *this* repository: a blob another repository holds does not count until it is
mounted here.

Refusals are registry_api.service_errors, mapped to protocol errors by the callers' edges.

Pushes by digest (how clients upload the children of an index, or referrers) publish no event:
no tag changed. The index or image pushed by tag afterwards publishes the one push event.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from hub.audit import audit_record, pull_sampled
from hub.names import TAG_RE
from hub.services.repositories import repository_touch
from registry_api.digests import digest_bytes, digest_parse
from registry_api.errors import DigestInvalid
from registry_api.lookups import repository_changed
from registry_api.manifests import (
    MAX_SIZE,
    InvalidManifest,
    ParsedManifest,
    is_digest,
    manifest_parse,
)
from registry_api.models import Blob, Manifest, ManifestTombstone, Tag
from registry_api.pulls import pull_record
from registry_api.service_errors import (
    DigestMalformed,
    ManifestDigestMismatch,
    ManifestInUse,
    ManifestMalformed,
    ManifestReferenceUnknown,
    ManifestTooLarge,
    TagNameInvalid,
)
from registry_api.services.blobs import blobs_linked_lock
from registry_api.services.image_metadata import image_metadata_enqueue
from registry_api.services.immutability import tag_change_check
from registry_api.services.quotas import quota_check_blobs
from registry_api.services.tags import tag_event_record, tag_point
from registry_api.signals import manifest_pushed
from webhooks.services.events import event_publish


@dataclass(frozen=True)
class ValidManifest:
    """A manifest body checked on its own (before any database lookup)."""

    body: bytes
    parsed: ParsedManifest
    digest: str
    tag: str  # "" for a push by digest


def manifest_validate(*, reference: str, body: bytes, content_type: str | None) -> ValidManifest:
    """Check the reference, size, JSON and media type; return the body's digest.

    A digest reference must match the body, hashed with the reference's algorithm; a tag
    reference stores the manifest under its sha256 digest.
    """
    limit = settings.REGISTRY_MAX_MANIFEST_BYTES
    if len(body) > limit:
        raise ManifestTooLarge({"size": len(body), "limit": limit})
    if is_digest(reference):
        try:
            expected = digest_parse(reference)
        except DigestInvalid as exc:
            raise DigestMalformed(exc.detail, message=exc.message) from None
        tag = ""
        digest = digest_bytes(body, expected.algorithm)
        if digest != str(expected):
            raise ManifestDigestMismatch({"digest": str(expected), "computed": digest})
    else:
        if not TAG_RE.fullmatch(reference):
            raise TagNameInvalid({"tag": reference[:200]})
        tag = reference
        digest = digest_bytes(body)
    try:
        parsed = manifest_parse(body, content_type)
    except InvalidManifest as exc:
        raise ManifestMalformed(exc.detail, message=exc.message) from None
    return ValidManifest(body=body, parsed=parsed, digest=digest, tag=tag)


# A 4 MiB manifest can list tens of thousands of descriptors: look them up in batches (SQLite
# limits the number of parameters of one query).
_BATCH = 500


def _batches(digests: list[str]):
    for start in range(0, len(digests), _BATCH):
        yield digests[start : start + _BATCH]


def _blobs_present(*, repository, digests: list[str]) -> dict[str, Blob]:
    present = {}
    for batch in _batches(digests):
        # Locked until the push commits, so a concurrent GC sweep cannot take them (GC lock).
        present.update(blobs_linked_lock(repository=repository, digests=batch))
    return present


def _references_resolve(*, repository, parsed: ParsedManifest) -> tuple[list[Blob], list[Manifest]]:
    """Return the blobs and child manifests the manifest references; raise if one is missing."""
    required = parsed.required_blob_digests
    blobs = _blobs_present(repository=repository, digests=required + parsed.optional_blob_digests)
    missing = [digest for digest in required if digest not in blobs]
    if missing:
        raise ManifestReferenceUnknown(
            {"digest": missing[0], "missing": missing[:10], "missing_count": len(missing)},
            message="manifest references a blob unknown to this repository",
        )
    # Locked until the push commits, as the blobs are: a delete of a child waits for this push
    # (then refuses, the child being listed) or, having begun first, makes it find none.
    children = list(
        Manifest.objects.select_for_update()
        .filter(repository=repository, digest__in=parsed.child_digests)
        .order_by("pk")
    )
    found = {child.digest for child in children}
    missing = [digest for digest in parsed.child_digests if digest not in found]
    if missing:
        raise ManifestReferenceUnknown(
            {"digest": missing[0], "missing": missing[:10], "missing_count": len(missing)},
            message="index references a manifest unknown to this repository",
        )
    return list(blobs.values()), children


def _total_size(parsed: ParsedManifest, children: list[Manifest]) -> int:
    children_size = sum(child.total_size for child in children)
    total = children_size if parsed.is_index else parsed.image_size
    return min(total, MAX_SIZE)  # many huge descriptors must not overflow the column


@transaction.atomic
def manifest_store(
    *,
    repository,
    valid: ValidManifest,
    actor,
    blobs: Sequence[Blob] = (),
    children: Sequence[Manifest] = (),
) -> Manifest:
    """Return the repository's Manifest row for this digest, creating it with its links.

    No reference check and no tag: manifest_push does both; the pull-through cache stores
    upstream manifests whose blobs arrive later.
    """
    manifest = Manifest.objects.filter(repository=repository, digest=valid.digest).first()
    if manifest is not None:
        return manifest
    parsed = valid.parsed
    try:
        with transaction.atomic():
            manifest = Manifest.objects.create(
                repository=repository,
                digest=valid.digest,
                media_type=parsed.media_type,
                artifact_type=parsed.artifact_type,
                payload=valid.body,
                size=len(valid.body),
                subject_digest=parsed.subject.digest if parsed.subject else "",
                config_digest=parsed.config.digest if parsed.config else "",
                total_size=_total_size(parsed, list(children)),
                annotations=parsed.annotations,
                pushed_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
    except IntegrityError:
        # The same manifest was pushed concurrently: content is identical by digest.
        return Manifest.objects.get(repository=repository, digest=valid.digest)
    if blobs:
        manifest.blobs.add(*blobs)
    if children:
        manifest.children.add(*children)
    return manifest


@transaction.atomic
def manifest_push(*, repository, valid: ValidManifest, actor) -> Manifest:
    """Store a validated manifest in `repository`, link its references, point its tag."""
    blobs, children = _references_resolve(repository=repository, parsed=valid.parsed)
    quota_check_blobs(repository=repository, blob_ids=[blob.pk for blob in blobs])
    manifest = manifest_store(
        repository=repository, valid=valid, actor=actor, blobs=blobs, children=children
    )
    if valid.tag:
        tag_point(repository=repository, name=valid.tag, manifest=manifest, actor=actor)
        # Off the request path: the image's labels are in its config blob, in storage.
        image_metadata_enqueue(manifest=manifest, pushed_at=timezone.now())
    else:
        repository_touch(repository=repository)
    reference = f":{valid.tag}" if valid.tag else f"@{manifest.digest}"
    audit_record(
        action="push",
        actor=actor,
        target=f"{repository.full_name}{reference}",
        data={"tag": valid.tag or "", "digest": manifest.digest},
    )
    manifest_id = manifest.pk
    transaction.on_commit(lambda: manifest_pushed.send(sender=Manifest, manifest_id=manifest_id))
    return manifest


def manifest_pull_record(*, manifest: Manifest, tag_name: str = "") -> None:
    """Count one pull of the repository (a manifest GET); stamp the tag pulled by name.

    Serving processes buffer pulls and write them about once a second (registry_api.pulls).
    """
    pull_record(repository_id=manifest.repository_id, tag_name=tag_name)
    if pull_sampled():
        repository = manifest.repository
        reference = f":{tag_name}" if tag_name else f"@{manifest.digest}"
        audit_record(
            action="pull",
            target=f"{repository.full_name}{reference}",
            data={"tag": tag_name, "digest": manifest.digest},
        )


# Tags in the referrers tag schema (OCI: `<alg>-<hex>` names the referrers index of a subject
# without the referrers API) and cosign's (`.sig`, `.att`, `.sbom` suffixes): they name the
# digest of the manifest their content is about, which makes them referrers of it.
_REFERRER_TAG_RE = re.compile(r"(sha256|sha512)-([0-9a-f]{64}|[0-9a-f]{128})(\.(sig|att|sbom))?")
_REFERRER_TAG_SUFFIXES = ("", ".sig", ".att", ".sbom")


def _referrer_tag_names(digest: str) -> list[str]:
    algorithm, _, hex_digest = digest.partition(":")
    return [f"{algorithm}-{hex_digest}{suffix}" for suffix in _REFERRER_TAG_SUFFIXES]


def _referrer_tag_subject(tag_name: str) -> str | None:
    match = _REFERRER_TAG_RE.fullmatch(tag_name)
    return f"{match.group(1)}:{match.group(2)}" if match else None


@dataclass
class DeletePlan:
    """What deleting one manifest deletes: `manifests` (the manifest first), and what it keeps.

    The rule: an index takes with it its untagged children that no other index of the
    repository lists (Docker Hub deletes an image with its platforms); children another tag or
    index still uses stay. With DELETE_REFERRERS_WITH_SUBJECT, every referrer of a deleted
    manifest goes too (its `subject` is the manifest, or a referrers/cosign tag names it),
    recursively (a signature of a signature), unless another index lists it or a tag not
    about a deleted manifest points at it.
    """

    manifests: list[Manifest]
    tags: dict[int, list[str]]  # manifest pk -> its tag names, for the deleted ones
    kept: list[Manifest]  # children and referrers found but kept (in use elsewhere)

    @property
    def digests(self) -> list[str]:
        return [manifest.digest for manifest in self.manifests]


def _links(*, parent_pks=None, child_pks=None) -> list[tuple[int, int]]:
    """(index pk, child pk) pairs of the repository's indexes, by either end, in batches."""
    through = Manifest.children.through
    field, keys = (
        ("from_manifest_id__in", parent_pks) if parent_pks is not None
        else ("to_manifest_id__in", child_pks)
    )  # fmt: skip
    pairs = []
    for batch in _batches(list(keys)):
        rows = through.objects.filter(**{field: batch})
        pairs += rows.values_list("from_manifest_id", "to_manifest_id")
    return pairs


def _manifests(*, pks=(), subject_digests=(), repository=None, untagged=False) -> list[Manifest]:
    found = []
    for batch in _batches(list(pks)):
        rows = Manifest.objects.filter(pk__in=batch)
        found += rows.filter(tags__isnull=True) if untagged else rows
    for batch in _batches(list(subject_digests)):
        found += Manifest.objects.filter(repository=repository, subject_digest__in=batch)
    return found


def _tags(*, repository=None, names=(), manifest_pks=()) -> list[Tag]:
    found = []
    for batch in _batches(list(names)):
        found += Tag.objects.filter(repository=repository, name__in=batch).select_related(
            "manifest"
        )
    for batch in _batches(list(manifest_pks)):
        found += Tag.objects.filter(manifest_id__in=batch).order_by("name")
    return found


def _index_in_use(manifest: Manifest) -> None:
    """Refuse to delete a manifest an index of its repository lists (it would dangle)."""
    parents = list(manifest.parents.order_by("pk")[:5])
    if not parents:
        return
    tags = list(
        Tag.objects.filter(manifest__in=parents).order_by("name").values_list("name", flat=True)[:5]
    )
    named = parents[0].digest + (f" (tag {', '.join(tags)})" if tags else "")
    raise ManifestInUse(
        {"digest": manifest.digest, "indexes": [parent.digest for parent in parents]},
        message=f"manifest {manifest.digest} is part of index {named}: delete the index first",
    )


def manifest_delete_plan(*, manifest: Manifest) -> DeletePlan:
    """Work out what deleting `manifest` deletes with it (see DeletePlan); nothing is changed.

    Raises ManifestInUse when an index of the repository still lists `manifest`. Retention dry
    runs list the plan; manifest_delete carries it out.
    """
    _index_in_use(manifest)
    repository = manifest.repository
    with_referrers = settings.DELETE_REFERRERS_WITH_SUBJECT
    found: dict[int, Manifest] = {manifest.pk: manifest}
    edges: dict[int, set[int]] = {manifest.pk: set()}  # what a member brought in
    frontier = [manifest]
    while frontier:
        brought: list[tuple[int, Manifest]] = []
        by_child: dict[int, list[int]] = {}
        for parent_pk, child_pk in _links(parent_pks=[member.pk for member in frontier]):
            by_child.setdefault(child_pk, []).append(parent_pk)
        for child in _manifests(pks=by_child, untagged=True):
            brought += [(parent_pk, child) for parent_pk in by_child[child.pk]]
        if with_referrers:
            by_digest = {member.digest: member.pk for member in frontier}
            referrers = _manifests(subject_digests=by_digest, repository=repository)
            brought += [(by_digest[referrer.subject_digest], referrer) for referrer in referrers]
            names = [name for digest in by_digest for name in _referrer_tag_names(digest)]
            for tag in _tags(repository=repository, names=names):
                brought.append((by_digest[_referrer_tag_subject(tag.name)], tag.manifest))
        frontier = []
        for source_pk, member in brought:
            edges.setdefault(source_pk, set()).add(member.pk)
            if member.pk not in found:
                found[member.pk] = member
                edges.setdefault(member.pk, set())
                frontier.append(member)
    candidates = list(found)
    parents: dict[int, set[int]] = {pk: set() for pk in candidates}
    for parent_pk, child_pk in _links(child_pks=candidates):
        parents[child_pk].add(parent_pk)
    tags: dict[int, list[str]] = {pk: [] for pk in candidates}
    for tag in _tags(manifest_pks=candidates):
        tags[tag.manifest_id].append(tag.name)
    members = _plan_settle(manifest.pk, found, edges, parents, tags)
    ordered = [found[pk] for pk in candidates if pk in members]
    kept = [found[pk] for pk in candidates if pk not in members]
    return DeletePlan(manifests=ordered, tags={pk: tags[pk] for pk in members}, kept=kept)


def _plan_settle(root_pk, found, edges, parents, tags) -> set[int]:
    """Shrink the candidates to a fixpoint: a member another (kept) index lists, or that a tag
    not about a deleted manifest points at, stays, and so does what only it brought in."""
    members = set(found)
    while True:
        digests = {found[pk].digest for pk in members}
        reachable, stack = {root_pk}, [root_pk]
        while stack:
            for pk in edges.get(stack.pop(), ()):
                if pk in members and pk not in reachable:
                    reachable.add(pk)
                    stack.append(pk)
        settled = {
            pk
            for pk in reachable
            if pk == root_pk
            or (
                parents[pk] <= reachable
                and all(_referrer_tag_subject(name) in digests for name in tags[pk])
            )
        }
        if settled == members:
            return members
        members = settled


def _manifest_remove(*, manifest: Manifest, tag_names: list[str], actor) -> None:
    """Delete one manifest row (its tags go by cascade), leaving its tombstone and history."""
    repository = manifest.repository
    digest, media_type = manifest.digest, manifest.media_type
    tombstone, _ = ManifestTombstone.objects.update_or_create(
        repository=repository,
        digest=digest,
        defaults={
            "media_type": media_type,
            "payload": bytes(manifest.payload),
            "deleted_at": timezone.now(),
            "deleted_by": actor if getattr(actor, "is_authenticated", False) else None,
        },
    )
    tombstone.blobs.set(manifest.blobs.all())
    for name in tag_names:
        tag_event_record(
            repository=repository, tag=name, action="delete", from_digest=digest, to_digest="",
            actor=actor,
        )  # fmt: skip
    manifest.delete()
    for name in tag_names or [""]:
        event_publish(
            action="delete",
            repository=repository,
            actor=actor,
            data={"tag": name, "digest": digest, "media_type": media_type},
        )


@transaction.atomic
def manifest_delete(*, manifest: Manifest, actor) -> list[str]:
    """Delete a manifest, every tag on it, and what goes with it (see DeletePlan); return the
    deleted digests, the manifest's first.

    Refused (nothing changes) when an index still lists the manifest (ManifestInUse) or when an
    immutability rule protects one of the tags that would go (TagImmutable). Each deleted
    manifest leaves a tombstone that keeps its payload and blobs restorable for
    TAG_RESTORE_SECONDS (tag history), and one delete event per removed tag (or one untagged).
    """
    repository = manifest.repository
    # Two deletes of one manifest at once: the second waits here, then finds nothing to plan.
    manifest = Manifest.objects.select_for_update().get(pk=manifest.pk)
    manifest.repository = repository
    plan = manifest_delete_plan(manifest=manifest)
    for member in plan.manifests:
        for name in plan.tags[member.pk]:
            tag_change_check(repository, name, action="delete")
    for member in plan.manifests:
        member.repository = repository
        _manifest_remove(manifest=member, tag_names=plan.tags[member.pk], actor=actor)
    repository_touch(repository=repository)
    repository_changed(repository_id=repository.pk)
    audit_record(
        action="manifest.delete",
        actor=actor,
        target=f"{repository.full_name}@{plan.digests[0]}",
        data={"digests": plan.digests, "tags": sorted(sum(plan.tags.values(), []))},
    )
    return plan.digests
