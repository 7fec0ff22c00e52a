"""Delete what nothing references: blobs with no repository link and no manifest, upload
sessions idle for too long, and (with --orphans) stored bytes without a blob row."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from registry_api.services.blobs import blob_collect, blob_collect_orphans
from registry_api.services.uploads import upload_expire


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="report, delete nothing")
        parser.add_argument(
            "--grace-minutes",
            type=int,
            default=60,
            help="keep unreferenced blobs younger than this (an upload may be linking them)",
        )
        parser.add_argument(
            "--upload-hours", type=int, default=24, help="cancel sessions idle for this long"
        )
        parser.add_argument(
            "--orphans", action="store_true", help="also walk the storage for stray bytes"
        )

    def handle(self, *args, dry_run=False, grace_minutes=60, upload_hours=24, orphans=False, **kw):
        now = timezone.now()
        blobs = blob_collect(older_than=now - timedelta(minutes=grace_minutes), dry_run=dry_run)
        verb = "would delete" if dry_run else "deleted"
        self.stdout.write(f"{verb} {len(blobs)} unreferenced blob(s)")
        for digest in blobs:
            self.stdout.write(f"  {digest}")
        if not dry_run:
            expired = upload_expire(older_than=now - timedelta(hours=upload_hours))
            self.stdout.write(f"removed {expired} stale upload session(s) or staged file(s)")
        if orphans:
            stray = blob_collect_orphans(dry_run=dry_run)
            self.stdout.write(f"{verb} {len(stray)} orphaned stored blob(s)")
