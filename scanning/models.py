"""Scan records: what an image contains (packages), what is known to be vulnerable (advisories
imported from OSV), and where the two meet (findings)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Severity(models.TextChoices):
    CRITICAL = "critical", _("Critical")
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")
    UNKNOWN = "unknown", _("Unknown")


class ImageScan(models.Model):
    """One image manifest's scan: layers read once; every later evaluation uses its packages."""

    class Status(models.TextChoices):
        DONE = "done", _("Done")
        SKIPPED = "skipped", _("Skipped: not a container image")

    manifest = models.OneToOneField(
        "registry_api.Manifest", on_delete=models.CASCADE, related_name="scan"
    )
    status = models.CharField(max_length=10, choices=Status.choices)
    distro = models.CharField(max_length=50, blank=True)  # os-release ID, e.g. "debian"
    distro_version = models.CharField(max_length=50, blank=True)  # VERSION_ID, e.g. "12"
    layers_read = models.PositiveIntegerField(default=0)
    bytes_read = models.PositiveBigIntegerField(default=0)
    files_seen = models.PositiveIntegerField(default=0)
    truncated = models.BooleanField(default=False)
    notes = models.JSONField(default=list, blank=True)
    sbom_digest = models.CharField(max_length=150, blank=True)
    scanned_at = models.DateTimeField(default=timezone.now)
    evaluated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"scan of {self.manifest}"


class ImagePackage(models.Model):
    manifest = models.ForeignKey(
        "registry_api.Manifest", on_delete=models.CASCADE, related_name="packages"
    )
    ecosystem = models.CharField(max_length=20)  # purl type: deb, apk, rpm, pypi, npm
    name = models.CharField(max_length=255)
    version = models.CharField(max_length=255)
    source_name = models.CharField(max_length=255, blank=True)
    purl = models.CharField(max_length=1000)
    source_layer = models.CharField(max_length=150)

    class Meta:
        indexes = [
            # Package search (`?name=openssl&version=`) and matching imported advisories.
            models.Index(fields=["name", "version"], name="imagepackage_name_version"),
            models.Index(fields=["source_name"], name="imagepackage_source_name"),
        ]
        ordering = ["ecosystem", "name", "version"]

    def __str__(self) -> str:
        return self.purl


class Advisory(models.Model):
    osv_id = models.CharField(max_length=100, unique=True)
    modified = models.DateTimeField()
    summary = models.CharField(max_length=500, blank=True)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    aliases = models.JSONField(default=list, blank=True)
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "advisories"

    def __str__(self) -> str:
        return self.osv_id


class AdvisoryPackage(models.Model):
    """One `affected` entry of an advisory, normalized to our ecosystems."""

    advisory = models.ForeignKey(Advisory, on_delete=models.CASCADE, related_name="packages")
    ecosystem = models.CharField(max_length=20)
    distro = models.CharField(max_length=50, blank=True)
    release = models.CharField(max_length=50, blank=True)
    name = models.CharField(max_length=255)
    ranges = models.JSONField(default=list)
    versions = models.JSONField(default=list)

    class Meta:
        indexes = [
            # Matching: the advisories about the packages of one image.
            models.Index(fields=["ecosystem", "name"], name="advisorypackage_eco_name"),
        ]

    def __str__(self) -> str:
        return f"{self.advisory} {self.ecosystem}/{self.name}"


class Finding(models.Model):
    """An installed package an advisory affects."""

    manifest = models.ForeignKey(
        "registry_api.Manifest", on_delete=models.CASCADE, related_name="findings"
    )
    package = models.ForeignKey(ImagePackage, on_delete=models.CASCADE, related_name="findings")
    advisory = models.ForeignKey(Advisory, on_delete=models.CASCADE, related_name="findings")
    fixed_version = models.CharField(max_length=255, blank=True)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    first_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["package", "advisory"], name="finding_unique"),
        ]
        # The pull policy: critical findings of a manifest older than N days.
        indexes = [models.Index(fields=["manifest", "severity"], name="finding_manifest_severity")]

    def __str__(self) -> str:
        return f"{self.advisory} in {self.package}"


class ScanPolicy(models.Model):
    """A repository's pull policy: refuse images with critical findings known for N days."""

    repository = models.OneToOneField(
        "hub.Repository", on_delete=models.CASCADE, related_name="scan_policy"
    )
    refuse_critical_after_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=_("Refuse pulls of images with a critical vulnerability known this many days."),
    )

    class Meta:
        verbose_name_plural = "scan policies"

    def __str__(self) -> str:
        return f"scan policy of {self.repository}"
