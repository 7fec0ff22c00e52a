"""Restore a `manage.py backup` directory into this instance: a new, empty database and a new
DATA_DIR (its keys are replaced by the backup's). Blobs go into the configured storage backend,
each checked against its digest. Starting the server then migrates the database to this version."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from hub.management.database import database_description
from registry_api.services.backups import BackupError, backup_restore


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("source", type=Path, help="the directory `backup` wrote")
        parser.add_argument(
            "--no-blobs",
            action="store_true",
            help="restore the database and keys only (blobs copied back with the store's tools)",
        )

    def handle(self, *args, source: Path, no_blobs=False, **options):
        self.stdout.write(f"Restoring {source} into {database_description()}")
        try:
            report = backup_restore(source, with_blobs=not no_blobs, progress=self.stdout.write)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"keys: {', '.join(report.keys) or 'none in the backup'}")
        for warning in report.warnings:
            self.stderr.write(warning)
        if report.keys_from_environment:
            self.stdout.write(
                "The backed-up instance had these set in its environment; set the same values "
                f"here: {', '.join(report.keys_from_environment)}."
            )
        self.stdout.write(
            "Done. Start the server: it migrates the restored database and serves it."
        )
