"""Collect garbage now, online (pushes and pulls go on): abandoned upload sessions, expired
manifest tombstones, repository links no manifest uses, blobs nothing references; with
--orphans also stored bytes without a blob row. The same collection Celery beat runs."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import filesizeformat

from registry_api.services.blobs import blob_collect_orphans
from registry_api.services.gc import GcBusy, gc_run


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="report, delete nothing")
        parser.add_argument(
            "--grace-seconds",
            type=int,
            default=None,
            help="keep unreferenced blobs and unused links younger than this "
            "(default GC_GRACE_SECONDS: an upload may be about to be referenced)",
        )
        parser.add_argument(
            "--upload-hours",
            type=float,
            default=None,
            help="cancel sessions idle for this long (default UPLOAD_PURGE_AFTER_SECONDS)",
        )
        parser.add_argument(
            "--orphans", action="store_true", help="also walk the storage for stray bytes"
        )

    def handle(
        self, *args, dry_run=False, grace_seconds=None, upload_hours=None, orphans=False, **kw
    ):
        upload_seconds = None if upload_hours is None else int(upload_hours * 3600)
        try:
            run = gc_run(
                trigger="command",
                dry_run=dry_run,
                grace_seconds=grace_seconds,
                upload_seconds=upload_seconds,
            )
        except GcBusy as exc:
            raise CommandError(str(exc)) from exc
        verb = "would free" if dry_run else "freed"
        grace = settings.GC_GRACE_SECONDS if grace_seconds is None else grace_seconds
        self.stdout.write(
            f"{verb} {run.blobs_freed} blob(s) ({run.bytes_freed} bytes, "
            f"{filesizeformat(run.bytes_freed)}) unreferenced for over {grace} s"
        )
        self.stdout.write(f"{verb} {run.links_dropped} unused repository link(s)")
        self.stdout.write(f"{verb} {run.tombstones_expired} expired manifest tombstone(s)")
        self.stdout.write(f"{verb} {run.uploads_purged} stale upload session(s) or staged file(s)")
        if run.storage_failures:
            self.stderr.write(
                f"{run.storage_failures} storage delete(s) failed: run with --orphans later"
            )
        if run.errors:
            self.stderr.write(f"errors: {run.errors}")
        if orphans:
            stray = blob_collect_orphans(dry_run=dry_run)
            self.stdout.write(
                f"{'would delete' if dry_run else 'deleted'} {len(stray)} orphaned stored blob(s)"
            )
