"""Reads for pages and the API: a tag's packages and findings, summaries, package search."""

from __future__ import annotations

import re

from django.db.models import Count, Q, QuerySet

from hub.selectors import repository_visible_q
from registry_api.models import Manifest, Tag
from scanning.models import Finding, ImagePackage, ImageScan
from scanning.osv import SEVERITIES


def _text(value: str, limit: int) -> str:
    """URL text as a filter: NUL bytes (which PostgreSQL refuses) dropped, length capped."""
    return value.replace("\x00", "")[:limit].strip()


def image_manifests(manifest: Manifest, platform: str = "") -> list[Manifest]:
    """The images a tag's manifest stands for: itself, or an index's platform images (only the
    one whose digest is `platform`, when given)."""
    platform = _text(platform, 150)
    if manifest.is_index:
        children = manifest.children.order_by("pk")
        return list(children.filter(digest=platform) if platform else children)
    return [manifest]


def tag_packages(*, tag: Tag, query: str = "", platform: str = "") -> QuerySet[ImagePackage]:
    packages = ImagePackage.objects.filter(manifest__in=image_manifests(tag.manifest, platform))
    query = _text(query, 100)
    if query:
        packages = packages.filter(Q(name__icontains=query) | Q(version__icontains=query))
    return packages.order_by("ecosystem", "name", "version", "pk")


def tag_scans(*, tag: Tag, platform: str = "") -> list[ImageScan]:
    manifests = image_manifests(tag.manifest, platform)
    return list(ImageScan.objects.filter(manifest__in=manifests))


def severity_summary(findings: QuerySet[Finding]) -> dict[str, int]:
    counts = dict(findings.values_list("severity").annotate(n=Count("pk")).order_by())
    return {severity: counts.get(severity, 0) for severity in SEVERITIES}


def tag_findings(*, tag: Tag, platform: str = "") -> QuerySet[Finding]:
    return (
        Finding.objects.filter(manifest__in=image_manifests(tag.manifest, platform))
        .select_related("advisory", "package")
        .order_by("package__name", "advisory__osv_id")
    )


def repository_findings(*, repository) -> QuerySet[Finding]:
    """Findings of the images the repository's tags point at (directly or through an index)."""
    tagged = Q(manifest__tags__repository=repository) | Q(
        manifest__parents__tags__repository=repository
    )
    return Finding.objects.filter(tagged, manifest__repository=repository).distinct()


def visible_findings(*, user) -> QuerySet[Finding]:
    repositories = Q(
        manifest__repository__in=_visible_repository_ids(user),
    )
    return Finding.objects.filter(repositories)


def _visible_repository_ids(user):
    from hub.models import Repository

    return Repository.objects.filter(repository_visible_q(user)).values("pk")


def package_search(*, user, name: str, version: str = "") -> QuerySet[ImagePackage]:
    """Packages by exact name (any case) and, optionally, exact version, in images of
    repositories the caller may see."""
    normalized = re.sub(r"[-_.]+", "-", name).lower()  # how PyPI names are stored
    packages = ImagePackage.objects.filter(
        Q(name__iexact=name) | Q(source_name__iexact=name) | Q(ecosystem="pypi", name=normalized),
        manifest__repository__in=_visible_repository_ids(user),
    )
    if version:
        packages = packages.filter(version=version)
    return packages.select_related("manifest__repository__namespace").order_by(
        "manifest__repository__namespace__name", "manifest__repository__name", "name", "pk"
    )


def manifest_tag_names(manifest: Manifest) -> list[str]:
    tags = Tag.objects.filter(
        Q(manifest=manifest) | Q(manifest__children=manifest),
        repository_id=manifest.repository_id,
    )
    return sorted(set(tags.values_list("name", flat=True)))


_SEVERITY_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}


def most_severe(findings: QuerySet[Finding]) -> list[Finding]:
    rows = list(findings.select_related("advisory", "package", "manifest")[:5000])
    return sorted(rows, key=lambda f: (_SEVERITY_RANK.get(f.severity, 9), f.package.name))


def repository_summaries(findings: QuerySet[Finding]) -> dict[str, dict[str, int]]:
    rows = (
        findings.values_list(
            "manifest__repository__namespace__name", "manifest__repository__name", "severity"
        )
        .annotate(n=Count("pk"))
        .order_by()
    )
    summaries: dict[str, dict[str, int]] = {}
    for namespace, name, severity, count in rows:
        summary = summaries.setdefault(f"{namespace}/{name}", dict.fromkeys(SEVERITIES, 0))
        summary[severity] = summary.get(severity, 0) + count
    return summaries


def manifest_packages(manifest: Manifest) -> dict[str, str] | None:
    """An image manifest's packages as "ecosystem/name" → version for tag comparisons, or None
    when it has not been scanned (a comparison then leaves its package section out)."""
    scan = ImageScan.objects.filter(manifest=manifest, status=ImageScan.Status.DONE).first()
    if scan is None:
        return None
    rows = ImagePackage.objects.filter(manifest=manifest).values_list(
        "ecosystem", "name", "version"
    )
    return {f"{ecosystem}/{name}": version for ecosystem, name, version in rows}
