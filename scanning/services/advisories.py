"""Import OSV advisories, then re-evaluate the images whose packages they name (from stored
packages: no layer is read again)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q

from registry_api.models import Manifest
from scanning.models import Advisory, AdvisoryPackage, ImagePackage
from scanning.osv import OsvInvalid, OsvRecord, osv_record_parse
from scanning.services.findings import findings_evaluate
from scanning.services.scans import match_name

logger = logging.getLogger(__name__)
_BATCH = 500


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    invalid: int = 0
    reevaluated: int = 0
    names: set[tuple[str, str]] = field(default_factory=set)


def _store(record: OsvRecord, result: ImportResult) -> None:
    advisory = Advisory.objects.filter(osv_id=record.id).first()
    if record.withdrawn:
        if advisory is not None:
            result.names |= set(advisory.packages.values_list("ecosystem", "name"))
            advisory.delete()
            result.withdrawn += 1
        return
    if advisory is not None and advisory.modified >= record.modified:
        result.unchanged += 1
        return
    if advisory is None:
        advisory = Advisory(osv_id=record.id)
        result.created += 1
    else:
        result.names |= set(advisory.packages.values_list("ecosystem", "name"))
        result.updated += 1
    advisory.modified = record.modified
    advisory.summary = record.summary
    advisory.severity = record.severity
    advisory.aliases = record.aliases
    advisory.save()
    advisory.packages.all().delete()
    AdvisoryPackage.objects.bulk_create(
        AdvisoryPackage(
            advisory=advisory,
            ecosystem=affected.ecosystem,
            distro=affected.distro,
            release=affected.release[:50],
            name=match_name(affected.ecosystem, affected.name)[:255],
            ranges=affected.ranges,
            versions=affected.versions,
        )
        for affected in record.affected
    )
    result.names |= {(a.ecosystem, match_name(a.ecosystem, a.name)) for a in record.affected}


def _affected_manifests(names: set[tuple[str, str]]) -> list[Manifest]:
    by_ecosystem: dict[str, list[str]] = {}
    for ecosystem, name in names:
        by_ecosystem.setdefault(ecosystem, []).append(name)
    manifest_ids: set[int] = set()
    for ecosystem, wanted in by_ecosystem.items():
        for start in range(0, len(wanted), _BATCH):
            batch = wanted[start : start + _BATCH]
            query = Q(name__in=batch) | Q(source_name__in=batch)
            rows = ImagePackage.objects.filter(query, ecosystem=ecosystem)
            manifest_ids |= set(rows.values_list("manifest_id", flat=True))
    return list(Manifest.objects.filter(pk__in=manifest_ids).select_related("repository"))


def advisories_import(documents: Iterable) -> ImportResult:
    """Upsert OSV records (a newer `modified` replaces an older one); re-evaluate what changed."""
    result = ImportResult()
    batch: list = []

    def flush():
        with transaction.atomic():
            for document in batch:
                try:
                    _store(osv_record_parse(document), result)
                except OsvInvalid:
                    result.invalid += 1
        batch.clear()

    for document in documents:
        batch.append(document)
        if len(batch) >= _BATCH:
            flush()
    flush()
    for manifest in _affected_manifests(result.names):
        findings_evaluate(manifest=manifest)
        result.reevaluated += 1
    return result
