"""Back this instance up into a new directory: the database (a consistent snapshot while the
server runs), then every blob it records (from any storage backend), then the keys generated
under DATA_DIR. `restore` brings it back into a new instance (docs/deployment.md)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from hub.management.database import database_description
from registry_api.services.backups import BackupError, backup_create


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("destination", type=Path, help="a new (or empty) directory")
        parser.add_argument(
            "--no-blobs",
            action="store_true",
            help="leave the blobs out (copied with the store's own tools: aws s3 sync, rsync)",
        )

    def handle(self, *args, destination: Path, no_blobs=False, **options):
        self.stdout.write(f"Backing up {database_description()} into {destination}")
        try:
            report = backup_create(destination, with_blobs=not no_blobs, progress=self.stdout.write)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        if report.missing_blobs:
            self.stderr.write(
                f"{len(report.missing_blobs)} recorded blobs have no bytes in the store "
                f"(listed in {destination / 'manifest.json'})."
            )
        self.stdout.write(f"keys: {', '.join(report.keys) or 'none under DATA_DIR'}")
        if report.keys_from_environment:
            self.stdout.write(
                f"Set in the environment, not copied: {', '.join(report.keys_from_environment)}. "
                "Keep them (your .env) with this backup: without DATA_ENCRYPTION_KEY the "
                "database's webhook secrets and upstream passwords cannot be read."
            )
        self.stdout.write(
            "Done. Store keys/ apart from the database dump: together they open the secrets."
        )
