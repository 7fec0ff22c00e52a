"""manage.py import_registry: bring a registry:2 storage directory's images into Dockyard."""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from registry_api.registry2_layout import Layout, LayoutError
from registry_api.services.imports import (
    ImportRefused,
    RepositoryReport,
    namespaces_prepare,
    repository_import,
    targets_plan,
)


def size_human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"  # pragma: no cover - the loop returns


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


class Command(BaseCommand):
    help = (
        "Import every repository, tag, manifest and blob of a registry:2 (CNCF Distribution) "
        "filesystem storage directory, e.g. /var/lib/registry. Safe to run again: what is "
        "already here is skipped. Imported tags send no push webhooks."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path", type=Path, help="the registry's data directory (or its docker/registry/v2)"
        )
        parser.add_argument(
            "--namespace", default="", help="put every repository under this namespace"
        )
        parser.add_argument(
            "--owner", default="", help="the user who owns namespaces the import creates"
        )
        parser.add_argument("--dry-run", action="store_true", help="report, write nothing")

    def handle(self, *args, path: Path, namespace: str, owner: str, dry_run: bool, **options):
        started = time.monotonic()
        try:
            layout = Layout(path)
            targets = targets_plan(layout, namespace=namespace)
            created = namespaces_prepare(targets, owner=owner, dry_run=dry_run)
        except (LayoutError, ImportRefused) as exc:
            raise CommandError(str(exc)) from None
        would = "would " if dry_run else ""
        if dry_run:
            self.stdout.write("Dry run: nothing will be written.")
        for name in created:
            self.stdout.write(f"{would}create organization {name} owned by {owner}")
        reports = []
        total_bytes, stored = 0, set()
        for position, target in enumerate(targets, start=1):
            report = repository_import(layout=layout, target=target, dry_run=dry_run, stored=stored)
            reports.append(report)
            total_bytes += report.bytes_copied
            self._repository_line(position, len(targets), report, total_bytes, would)
        self._summary(reports, time.monotonic() - started, would)

    def _repository_line(self, position, count, report: RepositoryReport, total, would) -> None:
        target = report.target
        shown = target.source.name
        if shown != target.full_name:
            shown += f" -> {target.full_name}"
        if report.created:
            shown += f" ({would}create)"
        moved = len(report.tags_moved)
        self.stdout.write(
            f"[{position}/{count}] {shown}: "
            f"{_plural(report.tags, 'tag')} ({report.tags_new} new, {moved} moved), "
            f"{_plural(report.manifests, 'manifest')} ({report.manifests_new} new), "
            f"{_plural(report.blobs, 'blob')} ({report.blobs_copied} copied), "
            f"{size_human(report.bytes_copied)}; total {size_human(total)}"
        )
        for moved in report.tags_moved:
            self.stdout.write(f"    tag {moved}")
        for problem in report.problems:
            self.stderr.write(f"    error: {problem}")

    def _summary(self, reports: list[RepositoryReport], elapsed: float, would: str) -> None:
        problems = sum(len(report.problems) for report in reports)
        copied = size_human(sum(report.bytes_copied for report in reports))
        self.stdout.write(
            f"{'Dry run' if would else 'Imported'}: "
            f"{_plural(len(reports), 'repository').replace('repositorys', 'repositories')}, "
            f"{_plural(sum(r.tags for r in reports), 'tag')}, "
            f"{_plural(sum(r.manifests for r in reports), 'manifest')}, "
            f"{_plural(sum(r.blobs for r in reports), 'blob')}, "
            f"{copied} {'to copy' if would else 'copied'}; "
            f"skipped {sum(r.skipped for r in reports)} already present; "
            f"{_plural(problems, 'error')}; {elapsed:.1f} s."
        )
        self.stdout.write(
            "Webhooks: imported tags send no push events; a repository the import creates "
            "publishes its repository event, as any new repository does."
        )
        if problems:
            raise CommandError(
                f"{_plural(problems, 'error')} (listed above); what could be imported was. "
                "Fix the source and run the import again: it resumes."
            )
