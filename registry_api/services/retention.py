"""Retention policies: what a policy would delete (`retention_plan`) and deleting it
(`retention_run`). The real run deletes what the plan lists, through the tag and manifest
services (tag history, events, tombstones), never by deleting rows itself.

The plan reads the scope in a fixed number of queries (tags, manifests, index edges) and decides
in memory, plus one query per repository for immutability rules and one aggregate for the freed
bytes: a repository of 10,000 tags costs the same queries as one of ten.

How a policy decides, per repository of its scope:
- Tags. A tag matching `protect_pattern`, or immutable, is kept. A tag that names a referrer
  (its manifest has a `subject` here, or its name is the referrers tag schema `sha256-<hex>...`
  of a manifest here: cosign's `.sig` tags) follows that subject, below. Of the other tags
  matching `tag_pattern`, one goes when every set keep rule lets it go: beyond the `keep_last`
  most recently pushed (ranked among all matching tags), not pulled within
  `keep_pulled_within_days` (a tag never pulled counts from its push, so a fresh push is not
  deleted before anyone could pull it). In a proxy cache, `evict_not_pulled_days` evicts any
  unprotected tag not pulled for that long; the next pull fetches it again.
- Manifests (only with `untagged_older_than_days`, or eviction in a proxy cache). Kept are:
  manifests a remaining tag points at, untagged manifests younger than the limit, and,
  transitively, the children of a kept index and the referrers of a kept manifest: an index is
  one unit with its children, a signature stays while its subject stays. Every other manifest
  of the repository goes, children with their index and referrers with their subject (with
  DELETE_REFERRERS_WITH_SUBJECT off a referrer also needs to be old enough itself).
- Freed bytes: the blobs of the deleted manifests that no remaining manifest of the whole
  registry uses, no other repository links and no live tombstone keeps (exclusive bytes, as
  selectors.usage.exclusive_bytes_of computes them); they are freed once the deleted
  manifests' own tombstones expire (TAG_RESTORE_SECONDS) and garbage collection runs.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from fnmatch import fnmatchcase

from django.conf import settings
from django.utils import timezone

from hub.audit import audit_record
from hub.models import Repository
from registry_api.models import (
    Manifest,
    ProxyCache,
    RetentionPolicy,
    Tag,
    TagEvent,
)
from registry_api.selectors.usage import exclusive_bytes_of
from registry_api.service_errors import ServiceError
from registry_api.services.immutability import protected_tags
from registry_api.services.manifests import manifest_delete
from registry_api.services.tags import tag_delete

# OCI 1.1's referrers tag schema (`<alg>-<hex>`), with cosign's suffixes (.sig, .att, .sbom).
REFERRER_TAG_RE = re.compile(r"^(sha256|sha512)-([0-9a-f]{64}|[0-9a-f]{128})(\..*)?$")
SCHEDULE_PERIODS = {
    RetentionPolicy.Schedule.DAILY: timedelta(days=1),
    RetentionPolicy.Schedule.WEEKLY: timedelta(days=7),
}


@dataclass(frozen=True)
class PlannedTag:
    tag_id: int
    repository: str
    name: str
    digest: str
    reason: str  # "rules", "evicted" or "referrer" (its subject goes)


@dataclass(frozen=True)
class PlannedManifest:
    manifest_id: int
    repository: str
    digest: str
    media_type: str
    reason: str  # "untagged", "child" (of a deleted index), "referrer" or "evicted"


@dataclass
class Plan:
    tags: list[PlannedTag] = field(default_factory=list)
    manifests: list[PlannedManifest] = field(default_factory=list)
    freed_bytes: int = 0

    def as_dict(self) -> dict:
        return {
            "tags": [_public(asdict(tag), "tag_id") for tag in self.tags],
            "manifests": [_public(asdict(m), "manifest_id") for m in self.manifests],
            "freed_bytes": self.freed_bytes,
        }


@dataclass
class Result(Plan):
    dry_run: bool = True
    # What the plan listed but the run left: moved or re-tagged in between, or refused.
    skipped: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"dry_run": self.dry_run, **super().as_dict(), "skipped": self.skipped}

    def counts(self) -> dict:
        return {"tags": len(self.tags), "manifests": len(self.manifests)}


def _public(row: dict, key: str) -> dict:
    row.pop(key)
    return row


def _immutable_tags(repository: Repository, names: list[str]) -> set[str]:
    """The tags an immutability rule protects: retention skips them (one query for all)."""
    return set(protected_tags(repository, names))


# Reading the scope ----------------------------------------------------------------------------


@dataclass
class _Row:
    pk: int
    repository_id: int
    digest: str
    media_type: str
    subject: str
    created_at: object
    is_index: bool = False


def _scope_repositories(policy: RetentionPolicy):
    if policy.repository_id:
        return Repository.objects.filter(pk=policy.repository_id)
    return Repository.objects.filter(namespace_id=policy.namespace_id)


def _proxy_repository_ids(repositories: list[Repository]) -> set[int]:
    names = {repository.namespace.name for repository in repositories}
    proxied = set(
        ProxyCache.objects.filter(namespace__in=names).values_list("namespace", flat=True)
    )
    return {r.pk for r in repositories if r.mirror_of or r.namespace.name in proxied}


class _Scope:
    """Every row the plan needs, read once."""

    def __init__(self, policy: RetentionPolicy):
        scope = _scope_repositories(policy)
        self.repositories = {r.pk: r for r in scope.select_related("namespace")}
        self.proxy_ids = _proxy_repository_ids(list(self.repositories.values()))
        index_types = (
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json",
        )
        self.manifests: dict[int, _Row] = {}
        for pk, repository_id, digest, media_type, subject, created_at in Manifest.objects.filter(
            repository__in=scope
        ).values_list(
            "pk", "repository_id", "digest", "media_type", "subject_digest", "created_at"
        ):
            row = _Row(pk, repository_id, digest, media_type, subject, created_at)
            row.is_index = media_type in index_types
            self.manifests[pk] = row
        self.tags = list(
            Tag.objects.filter(repository__in=scope)
            .order_by("-pushed_at", "-pk")
            .values_list(
                "pk", "repository_id", "name", "manifest_id", "pushed_at", "last_pulled_at"
            )
        )
        self.children: dict[int, list[int]] = defaultdict(list)
        edges = Manifest.children.through.objects.filter(from_manifest__repository__in=scope)
        for parent, child in edges.values_list("from_manifest_id", "to_manifest_id"):
            self.children[parent].append(child)


# Deciding -------------------------------------------------------------------------------------


def _tag_follows(name: str, manifest: _Row, by_digest: dict[str, _Row]) -> _Row | None:
    """The subject a referrer tag follows, if that subject is in the repository."""
    if manifest.subject and manifest.subject in by_digest:
        return by_digest[manifest.subject]
    match = REFERRER_TAG_RE.match(name)
    if match:
        return by_digest.get(f"{match.group(1)}:{match.group(2)}")
    return None


def _tag_goes(policy, tag, rank: int, now) -> bool:
    """Whether the policy's keep rules let a matching, unprotected tag go."""
    rules = []
    if policy.keep_last is not None:
        rules.append(rank >= policy.keep_last)
    if policy.keep_pulled_within_days is not None:
        used = tag[5] or tag[4]
        rules.append(used < now - timedelta(days=policy.keep_pulled_within_days))
    return bool(rules) and all(rules)


def _close(kept: set[int], scope: _Scope, referrers: dict[str, list[int]]) -> None:
    """Add the children of kept indexes and the referrers of kept manifests, transitively."""
    pending = list(kept)
    while pending:
        pk = pending.pop()
        for follower in (
            *scope.children.get(pk, ()),
            *referrers.get(scope.manifests[pk].digest, ()),
        ):
            if follower not in kept:
                kept.add(follower)
                pending.append(follower)


@dataclass
class _Repo:
    """One repository of the scope while it is being decided."""

    repository: Repository
    rows: dict[int, _Row]  # its manifests by pk
    by_digest: dict[str, _Row]
    referrers: dict[str, list[int]]  # subject digest → manifests that refer to it
    child_ids: set[int]
    evict_before: object  # a datetime for a proxy cache with an eviction rule, else None


def _repo(policy, scope: _Scope, repository: Repository, rows: dict[int, _Row], now) -> _Repo:
    by_digest = {row.digest: row for row in rows.values()}
    referrers: dict[str, list[int]] = defaultdict(list)
    for row in rows.values():
        if row.subject in by_digest:
            referrers[row.subject].append(row.pk)
    evicting = repository.pk in scope.proxy_ids and policy.evict_not_pulled_days is not None
    return _Repo(
        repository=repository,
        rows=rows,
        by_digest=by_digest,
        referrers=referrers,
        child_ids={child for pk in rows for child in scope.children.get(pk, ())},
        evict_before=now - timedelta(days=policy.evict_not_pulled_days) if evicting else None,
    )


def _tags_decide(policy, repo: _Repo, tags: list, now):
    """Split the tags: (tag, reason) that go, referrer tags waiting for their subject, and the
    manifests the kept tags hold."""
    going: list[tuple] = []
    followers: list[tuple] = []  # (tag, subject row)
    roots: set[int] = set()

    immutable = _immutable_tags(repo.repository, [tag[2] for tag in tags])

    def protected(name: str) -> bool:
        if policy.protect_pattern and fnmatchcase(name, policy.protect_pattern):
            return True
        return name in immutable

    rank = 0
    for tag in tags:  # newest push first
        _, _, name, manifest_id, pushed_at, pulled_at = tag
        subject = _tag_follows(name, repo.rows[manifest_id], repo.by_digest)
        if subject is not None:
            if protected(name):
                roots.update((manifest_id, subject.pk))  # a kept signature keeps its subject
            else:
                followers.append((tag, subject))
            continue
        matches = fnmatchcase(name, policy.tag_pattern)
        evicted = repo.evict_before is not None and (pulled_at or pushed_at) < repo.evict_before
        ruled = matches and _tag_goes(policy, tag, rank, now)
        rank += matches
        if (evicted or ruled) and not protected(name):
            going.append((tag, "evicted" if evicted else "rules"))
        else:
            roots.add(manifest_id)
    return going, followers, roots


def _manifests_keep(policy, scope: _Scope, repo: _Repo, roots: set[int], followers, now):
    """Mark what stays: the kept tags' manifests, young untagged ones, and what those need."""
    limits = [policy.untagged_older_than_days]
    if repo.evict_before is not None:
        limits.append(policy.evict_not_pulled_days)
    limits = [days for days in limits if days is not None]
    if not limits:
        return set(repo.rows)  # no manifest rule: tag deletes only
    cutoff = now - timedelta(days=min(limits))
    for row in repo.rows.values():
        follows = row.pk in repo.child_ids or (
            row.subject in repo.by_digest and settings.DELETE_REFERRERS_WITH_SUBJECT
        )
        if not follows and row.created_at >= cutoff:
            roots.add(row.pk)
    kept = set(roots)
    _close(kept, scope, repo.referrers)
    # A referrer tag stays while its subject stays, and keeps its own manifest then.
    kept |= {tag[3] for tag, subject in followers if subject.pk in kept}
    _close(kept, scope, repo.referrers)
    return kept


def _manifest_reason(repo: _Repo, row: _Row) -> str:
    if row.subject in repo.by_digest:
        return "referrer"
    if row.pk in repo.child_ids:
        return "child"
    return "evicted" if repo.evict_before is not None else "untagged"


def _deletion_order(doomed: dict[int, _Row], scope: _Scope, repo: _Repo) -> list[_Row]:
    """Referrers before their subject, an index before its children (nested ones too): the
    manifest service refuses to delete a child an index still lists."""
    order: list[_Row] = []
    seen: set[int] = set()

    def after(row: _Row) -> list[int]:  # what must be deleted after `row`
        children = [pk for pk in scope.children.get(row.pk, ()) if pk in doomed]
        subject = repo.by_digest.get(row.subject)
        return children + ([subject.pk] if subject is not None and subject.pk in doomed else [])

    def visit(row: _Row) -> None:
        seen.add(row.pk)
        for pk in after(row):
            if pk not in seen:
                visit(doomed[pk])
        order.append(row)

    for pk in sorted(doomed):
        if pk not in seen:
            visit(doomed[pk])
    return order[::-1]


def _repository_plan(policy, scope: _Scope, repo: _Repo, tags: list, now, plan: Plan) -> None:
    going, followers, roots = _tags_decide(policy, repo, tags, now)
    kept = _manifests_keep(policy, scope, repo, roots, followers, now)
    going += [(tag, "referrer") for tag, subject in followers if subject.pk not in kept]
    full_name = repo.repository.full_name
    for tag, reason in going:
        digest = repo.rows[tag[3]].digest
        plan.tags.append(PlannedTag(tag[0], full_name, tag[2], digest, reason))
    doomed = {pk: row for pk, row in repo.rows.items() if pk not in kept}
    for row in _deletion_order(doomed, scope, repo):
        reason = _manifest_reason(repo, row)
        plan.manifests.append(
            PlannedManifest(row.pk, full_name, row.digest, row.media_type, reason)
        )


def retention_plan(policy: RetentionPolicy, *, now=None) -> Plan:
    """Exactly what running `policy` now would delete, and the bytes it would free."""
    now = now or timezone.now()
    scope = _Scope(policy)
    tags_by_repository: dict[int, list] = defaultdict(list)
    for tag in scope.tags:
        tags_by_repository[tag[1]].append(tag)
    rows_by_repository: dict[int, dict[int, _Row]] = defaultdict(dict)
    for row in scope.manifests.values():
        rows_by_repository[row.repository_id][row.pk] = row
    plan = Plan()
    for repository in sorted(scope.repositories.values(), key=lambda r: r.name):
        repo = _repo(policy, scope, repository, rows_by_repository[repository.pk], now)
        _repository_plan(policy, scope, repo, tags_by_repository[repository.pk], now, plan)
    plan.freed_bytes = exclusive_bytes_of(m.manifest_id for m in plan.manifests)
    return plan


# Running --------------------------------------------------------------------------------------


def _tag_remove(planned: PlannedTag, actor) -> str | None:
    """Delete the planned tag if it still points where the plan saw it; why not otherwise."""
    tag = Tag.objects.select_related("repository", "manifest").filter(pk=planned.tag_id).first()
    if tag is None or tag.manifest.digest != planned.digest:
        return "moved"
    tag_delete(tag=tag, actor=actor, action=TagEvent.Action.RETENTION)
    return None


def _manifest_remove(planned: PlannedManifest, actor) -> str | None:
    manifest = Manifest.objects.select_related("repository").filter(pk=planned.manifest_id).first()
    if manifest is None:
        return None  # already gone with its index or subject (services.manifests)
    if Tag.objects.filter(manifest=manifest).exists():
        return "tagged"  # pushed again since the plan
    manifest_delete(manifest=manifest, actor=actor)
    return None


def retention_run(policy: RetentionPolicy, dry_run: bool, actor=None) -> Result:
    """Plan `policy` and, unless `dry_run`, delete what the plan lists. One audit entry."""
    plan = retention_plan(policy)
    result = Result(freed_bytes=plan.freed_bytes, dry_run=dry_run)
    if dry_run:
        result.tags, result.manifests = list(plan.tags), list(plan.manifests)
    else:
        for kind, items, remove in (
            ("tag", plan.tags, _tag_remove),
            ("manifest", plan.manifests, _manifest_remove),
        ):
            for item in items:
                try:
                    reason = remove(item, actor)
                except ServiceError as error:
                    reason = error.message
                if reason is None:
                    (result.tags if kind == "tag" else result.manifests).append(item)
                else:
                    name = getattr(item, "name", None) or item.digest
                    result.skipped.append({"kind": kind, "repository": item.repository,
                                           "name": name, "reason": reason})  # fmt: skip
        policy.last_run_at = timezone.now()
        policy.last_result = {**result.counts(), "freed_bytes": result.freed_bytes,
                              "skipped": len(result.skipped)}  # fmt: skip
        policy.save(update_fields=["last_run_at", "last_result"])
    audit_record(
        action="retention.run",
        actor=actor,
        target=policy.scope_name,
        data={"policy": policy.pk, "dry_run": dry_run, **result.counts(),
              "bytes": result.freed_bytes, "skipped": len(result.skipped)},
    )  # fmt: skip
    return result


def retention_policy_due(policy: RetentionPolicy, *, now) -> bool:
    """Enabled, scheduled, and its period (less a tenth, for beat's jitter) has passed."""
    period = SCHEDULE_PERIODS.get(policy.schedule)
    if not policy.enabled or period is None:
        return False
    return policy.last_run_at is None or policy.last_run_at <= now - period * 0.9


def retention_run_due(*, now=None) -> int:
    """Run every policy that is due (Celery beat); return how many ran."""
    now = now or timezone.now()
    ran = 0
    for policy in RetentionPolicy.objects.filter(enabled=True).select_related(
        "repository__namespace", "namespace"
    ):
        if retention_policy_due(policy, now=now):
            retention_run(policy, dry_run=False)
            ran += 1
    return ran
