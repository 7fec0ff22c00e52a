"""Match an image's stored packages against the advisories (no layer is read here), and tell
the repository's webhooks when new critical vulnerabilities appear."""

from __future__ import annotations

from collections import defaultdict

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from registry_api.models import Manifest, Tag
from scanning.matching import fixed_version, version_affected
from scanning.models import Advisory, AdvisoryPackage, Finding, ImageScan, Severity
from webhooks.services.events import event_publish

_BATCH = 500
VULNERABILITIES_FOUND = "scan.vulnerabilities_found"


def _release_matches(advisory_release: str, image_release: str) -> bool:
    if not advisory_release or not image_release:
        return True
    return image_release == advisory_release or image_release.startswith(advisory_release + ".")


def _candidates(packages) -> dict[tuple[str, str], list[AdvisoryPackage]]:
    names = defaultdict(set)
    for package in packages:
        names[package.ecosystem].add(package.name)
        if package.source_name:
            names[package.ecosystem].add(package.source_name)
    found = defaultdict(list)
    for ecosystem, wanted in names.items():
        wanted = sorted(wanted)
        for start in range(0, len(wanted), _BATCH):
            rows = AdvisoryPackage.objects.filter(
                ecosystem=ecosystem, name__in=wanted[start : start + _BATCH]
            ).select_related("advisory")
            for row in rows:
                found[(ecosystem, row.name)].append(row)
    return found


def _matches(scan: ImageScan, packages) -> dict[tuple[int, int], tuple[str, str]]:
    """(package pk, advisory pk) -> (fixed version, severity)."""
    candidates = _candidates(packages)
    matches = {}
    for package in packages:
        rows = candidates.get((package.ecosystem, package.name), [])
        if package.source_name and package.source_name != package.name:
            rows = rows + candidates.get((package.ecosystem, package.source_name), [])
        for row in rows:
            if row.distro and scan.distro and row.distro != scan.distro:
                continue
            if not _release_matches(row.release, scan.distro_version):
                continue
            if version_affected(
                package.ecosystem, package.version, ranges=row.ranges, versions=row.versions
            ):
                fixed = fixed_version(package.ecosystem, package.version, row.ranges)
                matches[(package.pk, row.advisory_id)] = (fixed, row.advisory.severity)
    return matches


def _tags_of(manifest: Manifest) -> list[str]:
    query = Q(manifest=manifest) | Q(manifest__children=manifest)
    tags = Tag.objects.filter(query, repository_id=manifest.repository_id)
    return sorted(set(tags.values_list("name", flat=True)))[:20]


@transaction.atomic
def findings_evaluate(*, manifest: Manifest) -> list[Finding]:
    """Bring the manifest's findings in line with its packages and the advisories; return the
    new ones."""
    scan = ImageScan.objects.filter(manifest=manifest).first()
    if scan is None:
        return []
    packages = list(manifest.packages.all())
    matches = _matches(scan, packages)
    existing = {(f.package_id, f.advisory_id): f for f in manifest.findings.all()}
    gone = [finding.pk for key, finding in existing.items() if key not in matches]
    Finding.objects.filter(pk__in=gone).delete()
    created = []
    for key, (fixed, severity) in matches.items():
        finding = existing.get(key)
        if finding is None:
            created.append(
                Finding(
                    manifest=manifest,
                    package_id=key[0],
                    advisory_id=key[1],
                    fixed_version=fixed[:255],
                    severity=severity,
                )  # fmt: skip
            )
        elif (finding.fixed_version, finding.severity) != (fixed[:255], severity):
            finding.fixed_version, finding.severity = fixed[:255], severity
            finding.save(update_fields=["fixed_version", "severity"])
    # A concurrent evaluation (a scan and an import at once) may have written the same rows.
    Finding.objects.bulk_create(created, batch_size=_BATCH, ignore_conflicts=True)
    ImageScan.objects.filter(pk=scan.pk).update(evaluated_at=timezone.now())
    critical = [finding for finding in created if finding.severity == Severity.CRITICAL]
    if critical:
        advisories = {finding.advisory_id for finding in critical}
        ids = sorted(Advisory.objects.filter(pk__in=advisories).values_list("osv_id", flat=True))
        event_publish(
            action=VULNERABILITIES_FOUND,
            repository=manifest.repository,
            data={
                "digest": manifest.digest,
                "media_type": manifest.media_type,
                "tag": (_tags_of(manifest) or [""])[0],
                "tags": _tags_of(manifest),
                "critical": len(critical),
                "vulnerabilities": ids[:100],
            },
        )
    return created
