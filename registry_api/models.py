"""The registry's records: the database is the source of truth for what each repository holds."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from hub.encryption import EncryptedTextField


class Blob(models.Model):
    """One stored copy of some content, shared by every repository that links to it."""

    digest = models.CharField(max_length=150, unique=True)
    size = models.PositiveBigIntegerField()
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
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"upload {self.uuid} to {self.repository}"


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
