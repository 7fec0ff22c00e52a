"""The registry's records: the database is the source of truth for what each repository holds."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hub.encryption import EncryptedTextField


class Blob(models.Model):
    """One stored copy of some content, shared by every repository that links to it."""

    digest = models.CharField(max_length=150, unique=True)
    size = models.PositiveBigIntegerField()
    # Empty: the bytes are at the content-addressed name (`storage.blob_path`). Else the object
    # key they were stored at in place (an S3 multipart upload completed where it was staged,
    # so no copy): readers, garbage collection and backups follow it.
    storage_key = models.CharField(max_length=1024, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(size__gte=0), name="blob_size_positive")]

    def __str__(self) -> str:
        return self.digest


class RepositoryBlob(models.Model):
    """A repository may read a blob only through one of these links (pushed, mounted, cached)."""

    repository = models.ForeignKey(
        "hub.Repository", on_delete=models.CASCADE, related_name="blob_links"
    )
    blob = models.ForeignKey(Blob, on_delete=models.CASCADE, related_name="repository_links")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["repository", "blob"], name="repository_blob_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.repository} → {self.blob}"


class Manifest(models.Model):
    """A manifest or index, stored whole in the database (≤ 4 MiB by spec)."""

    repository = models.ForeignKey(
        "hub.Repository", on_delete=models.CASCADE, related_name="manifests"
    )
    digest = models.CharField(max_length=150)
    media_type = models.CharField(max_length=255)
    artifact_type = models.CharField(max_length=255, blank=True)
    payload = models.BinaryField()
    size = models.PositiveIntegerField()
    # Digest of the manifest this one refers to (OCI 1.1 `subject`), for the referrers API.
    subject_digest = models.CharField(max_length=150, blank=True, db_index=True)
    config_digest = models.CharField(max_length=150, blank=True)
    # Sum of the config and layer sizes: the image's size as the UI and API show it.
    total_size = models.PositiveBigIntegerField(default=0)
    annotations = models.JSONField(default=dict, blank=True)
    blobs = models.ManyToManyField(Blob, related_name="manifests", blank=True)
    children = models.ManyToManyField("self", symmetrical=False, related_name="parents", blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    pushed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["repository", "digest"], name="manifest_unique_digest"),
            models.CheckConstraint(condition=Q(size__gte=0), name="manifest_size_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.repository}@{self.digest}"

    @property
    def is_index(self) -> bool:
        return self.media_type in (
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json",
        )


class Tag(models.Model):
    repository = models.ForeignKey("hub.Repository", on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=128)
    manifest = models.ForeignKey(Manifest, on_delete=models.CASCADE, related_name="tags")
    pushed_at = models.DateTimeField(default=timezone.now)
    pushed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_pulled_at = models.DateTimeField(null=True, blank=True)
    pull_count = models.PositiveBigIntegerField(default=0)  # pulls by this tag's name
    # For mirrored repositories: when the upstream last confirmed this tag's digest.
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["repository", "name"], name="tag_unique_per_repository"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.repository}:{self.name}"


class BlobUpload(models.Model):
    """An upload session. Its bytes are in the upload staging (registry_api.storage), which every
    web process reaches; its offset is here, so any process may take the next chunk."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    repository = models.ForeignKey(
        "hub.Repository", on_delete=models.CASCADE, related_name="uploads"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    offset = models.PositiveBigIntegerField(default=0)
    # The digest of the bytes [0, offset) when the process that wrote the last chunk had hashed
    # them all, so a PUT on any other process needs no re-read; "" when unknown.
    hashed_digest = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"upload {self.uuid} to {self.repository}"


class S3Staging(models.Model):
    """An upload session's bytes staged in the object store (registry_api.storage.s3_staging).

    The bytes are, in order, the recorded parts of an S3 multipart upload at `object_key`, then
    `segments`: small objects (each `[key, size]`) holding a tail too short to be a part yet.
    Once `sealed`, `object_key` is one completed object holding all `offset` bytes. The row is the
    truth: an object or part it does not name is garbage. `lock_token`/`lock_expires` are the
    cross-host lease of the request that holds the session.
    """

    upload_id = models.CharField(max_length=64, unique=True)
    offset = models.PositiveBigIntegerField(default=0)
    object_key = models.CharField(max_length=1024, blank=True, default="")
    multipart_id = models.CharField(max_length=1024, blank=True, default="")
    sealed = models.BooleanField(default=False)
    segments = models.JSONField(default=list, blank=True)
    # Part numbers are handed out once each, so a holder that lost its lease never overwrites
    # a part the next holder recorded.
    next_part = models.PositiveIntegerField(default=1)
    lock_token = models.CharField(max_length=64, blank=True, default="")
    lock_expires = models.DateTimeField(null=True, blank=True)
    # PostgreSQL: the holder's backend. A host killed mid-request closes its connection, so
    # once that backend is gone the lock is free without waiting for the lease to run out.
    lock_pid = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"S3 staging of upload {self.upload_id}"


class S3StagingPart(models.Model):
    """One recorded part of an S3 staging's multipart upload: bytes [start, start + size)."""

    staging = models.ForeignKey(S3Staging, on_delete=models.CASCADE, related_name="parts")
    number = models.PositiveIntegerField()
    etag = models.CharField(max_length=200)
    start = models.PositiveBigIntegerField()
    size = models.PositiveBigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["staging", "number"], name="s3_staging_part_unique")
        ]

    def __str__(self) -> str:
        return f"part {self.number} of {self.staging.upload_id}"


class ProxyCache(models.Model):
    """A namespace served as a pull-through cache of an upstream registry."""

    namespace = models.CharField(max_length=64, unique=True)
    upstream_url = models.URLField()
    username = models.CharField(max_length=200, blank=True)
    password = EncryptedTextField(max_length=500, blank=True)
    cache_ttl_seconds = models.PositiveIntegerField(default=3600)
    require_sign_in = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "proxy caches"

    def __str__(self) -> str:
        return f"{self.namespace} → {self.upstream_url}"


class TagEvent(models.Model):
    """One movement of a tag: the tag history that restore reads. Written by services.tags only."""

    class Action(models.TextChoices):
        PUSH = "push", "push"  # created or moved by a push
        DELETE = "delete", "delete"  # the tag (or its manifest) was deleted
        RETENTION = "retention", "retention"  # a retention policy deleted it
        RESTORE = "restore", "restore"  # pointed back at an earlier digest
        IMPORT = "import", "import"  # brought over by import_registry
        CACHE = "cache", "cache"  # a pull-through cache followed its upstream (no actor)

    repository = models.ForeignKey(
        "hub.Repository", on_delete=models.CASCADE, related_name="tag_events"
    )
    tag = models.CharField(max_length=128)
    action = models.CharField(max_length=16, choices=Action.choices)
    # "" when the tag did not exist before (from) or no longer exists after (to).
    from_digest = models.CharField(max_length=150, blank=True)
    to_digest = models.CharField(max_length=150, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["repository", "tag", "-created_at"], name="tag_event_history_idx")
        ]

    def __str__(self) -> str:
        return f"{self.repository}:{self.tag} {self.action} {self.from_digest} -> {self.to_digest}"


class ManifestTombstone(models.Model):
    """A deleted manifest, kept TAG_RESTORE_SECONDS so a tag can be restored to it: its payload,
    and the blobs it used, which garbage collection keeps while the tombstone lives."""

    repository = models.ForeignKey(
        "hub.Repository", on_delete=models.CASCADE, related_name="manifest_tombstones"
    )
    digest = models.CharField(max_length=150)
    media_type = models.CharField(max_length=255)
    payload = models.BinaryField()
    blobs = models.ManyToManyField(Blob, related_name="tombstones", blank=True)
    deleted_at = models.DateTimeField(default=timezone.now, db_index=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["repository", "digest"], name="tombstone_unique_digest"
            ),
        ]

    def __str__(self) -> str:
        return f"deleted {self.repository}@{self.digest}"


class ImmutabilityRule(models.Model):
    """Tags matching `pattern` in one repository, or in every repository of a namespace, may be
    created but never moved nor deleted (services.immutability decides; lifting = deleting it).

    `pattern` is a glob (`v*`, `release-*`, `*`) or, written `re:<regex>`, a regular expression
    searched in the tag name (anchor it: `re:^v\\d+$`)."""

    repository = models.ForeignKey(
        "hub.Repository",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="immutability_rules",
    )
    namespace = models.ForeignKey(
        "hub.Namespace",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="immutability_rules",
    )
    pattern = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(repository__isnull=False, namespace__isnull=True)
                | Q(repository__isnull=True, namespace__isnull=False),
                name="immutability_rule_one_scope",
            ),
            models.UniqueConstraint(
                fields=["repository", "pattern"],
                condition=Q(repository__isnull=False),
                name="immutability_rule_unique_per_repository",
            ),
            models.UniqueConstraint(
                fields=["namespace", "pattern"],
                condition=Q(namespace__isnull=False),
                name="immutability_rule_unique_per_namespace",
            ),
        ]

    def __str__(self) -> str:
        return f'"{self.pattern}" on {self.scope_name}'

    @property
    def scope_name(self) -> str:
        """What the rule covers, as people name it: `alice/app`, or `alice/*` for a namespace."""
        if self.repository_id:
            return self.repository.full_name
        return f"{self.namespace.name}/*"


# Tag names and glob wildcards: what a retention pattern may contain.
RETENTION_PATTERN_VALIDATOR = RegexValidator(
    r"^[A-Za-z0-9_.*?\[\]!-]{1,128}$",
    _("Use tag characters (letters, digits, _ . -) and the wildcards * ? [ ]."),
)
_DAYS = [MinValueValidator(1), MaxValueValidator(36500)]


class RetentionPolicy(models.Model):
    """Rules that delete a repository's (or a whole namespace's) old tags and untagged manifests,
    run on a schedule or on demand by services.retention. Every rule is optional; a tag is kept
    when any keep rule keeps it."""

    class Schedule(models.TextChoices):
        DAILY = "daily", "daily"
        WEEKLY = "weekly", "weekly"
        MANUAL = "manual", "manual (on demand only)"

    # Exactly one of the two scopes (check constraint below).
    repository = models.ForeignKey(
        "hub.Repository",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="retention_policies",
    )
    namespace = models.ForeignKey(
        "hub.Namespace",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="retention_policies",
    )
    tag_pattern = models.CharField(
        max_length=128,
        default="*",
        validators=[RETENTION_PATTERN_VALIDATOR],
        help_text=_("Glob of the tags the keep rules apply to; other tags are left alone."),
    )
    keep_last = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100000)],
        help_text=_("Keep the N most recently pushed matching tags."),
    )
    keep_pulled_within_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=_DAYS,
        help_text=_("Keep matching tags pulled (or pushed, if never pulled) within D days."),
    )
    untagged_older_than_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=_DAYS,
        help_text=_("Delete untagged manifests older than D days."),
    )
    protect_pattern = models.CharField(
        max_length=128,
        blank=True,
        validators=[RETENTION_PATTERN_VALIDATOR],
        help_text=_("Tags matching this glob are always kept."),
    )
    evict_not_pulled_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=_DAYS,
        help_text=_("Proxy caches only: evict cached tags and manifests not pulled for D days."),
    )
    enabled = models.BooleanField(default=True)
    schedule = models.CharField(max_length=8, choices=Schedule.choices, default=Schedule.DAILY)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_result = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name_plural = "retention policies"
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(repository__isnull=False, namespace__isnull=True)
                    | Q(repository__isnull=True, namespace__isnull=False)
                ),
                name="retention_policy_one_scope",
            ),
        ]

    def __str__(self) -> str:
        return f"retention policy {self.pk} of {self.scope_name}"

    @property
    def scope_name(self) -> str:
        return self.repository.full_name if self.repository_id else f"{self.namespace.name}/*"

    def clean(self) -> None:
        if (self.repository_id is None) == (self.namespace_id is None):
            raise ValidationError(_("Choose one repository or one namespace."))
        rules = (
            self.keep_last,
            self.keep_pulled_within_days,
            self.untagged_older_than_days,
            self.evict_not_pulled_days,
        )
        if all(rule is None for rule in rules):
            raise ValidationError(_("Set at least one rule."))
        if self.evict_not_pulled_days is not None and not self.is_proxy_cache:
            raise ValidationError(
                {"evict_not_pulled_days": _("Only proxy-cache repositories and namespaces evict.")}
            )

    @property
    def is_proxy_cache(self) -> bool:
        if self.repository_id:
            return (
                bool(self.repository.mirror_of)
                or ProxyCache.objects.filter(namespace=self.repository.namespace.name).exists()
            )
        return ProxyCache.objects.filter(namespace=self.namespace.name).exists()


class GcRun(models.Model):
    """One garbage collection: when, why, and what it freed (or, dry, would free)."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "schedule"
        ADMIN = "admin", "admin"
        COMMAND = "command", "command"

    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    dry_run = models.BooleanField(default=False)
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    uploads_purged = models.PositiveIntegerField(default=0)
    tombstones_expired = models.PositiveIntegerField(default=0)
    links_dropped = models.PositiveIntegerField(default=0)
    blobs_freed = models.PositiveIntegerField(default=0)
    bytes_freed = models.PositiveBigIntegerField(default=0)
    # Bytes whose storage delete failed: their rows are gone, the next run's orphan walk finds them.
    storage_failures = models.PositiveIntegerField(default=0)
    errors = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"gc {self.started_at:%Y-%m-%d %H:%M:%S} ({self.trigger})"


class PullCount(models.Model):
    """Manifest GETs of one client in one rate-limit window, for the embedded default (without
    Redis): an UPDATE … SET count = count + 1 is atomic across web processes on any database."""

    key = models.CharField(max_length=200)
    window_start = models.BigIntegerField()  # epoch seconds, a multiple of the window
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "window_start"], name="pull_count_unique")
        ]

    def __str__(self) -> str:
        return f"{self.key} @{self.window_start}: {self.count}"


class SignatureCheck(models.Model):
    """The last verdict on a manifest's signatures (registry_api.selectors.signatures).

    Valid while the namespace's signing_keys_version and the set of signature manifests it was
    made from (`signatures_hash`) are unchanged; the portal's "signed" filter reads these rows.
    """

    class State(models.TextChoices):
        VERIFIED = "verified", _("Verified")
        UNVERIFIED = "unverified", _("Not verified")
        UNSIGNED = "unsigned", _("No signature")

    repository = models.ForeignKey(
        "hub.Repository", on_delete=models.CASCADE, related_name="signature_checks"
    )
    digest = models.CharField(max_length=150)
    keys_version = models.PositiveIntegerField()
    signatures_hash = models.CharField(max_length=64)
    state = models.CharField(max_length=10, choices=State.choices)
    key_name = models.CharField(max_length=100, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    checked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["repository", "digest"], name="signature_check_unique_digest"
            )
        ]

    def __str__(self) -> str:
        return f"{self.repository}@{self.digest}: {self.state}"
