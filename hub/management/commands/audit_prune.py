"""Drop audit entries older than AUDIT_LOG_RETENTION_DAYS (or --days): `manage.py audit_prune`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from hub.audit import audit_prune


class Command(BaseCommand):
    help = "Delete audit log entries older than AUDIT_LOG_RETENTION_DAYS (or --days N)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, help="Keep this many days instead.")

    def handle(self, *args, **options):
        days = options["days"]
        if days is not None and days <= 0:
            raise CommandError("--days must be at least 1.")
        count = audit_prune(days=days)
        self.stdout.write(f"Deleted {count} audit entries.")
