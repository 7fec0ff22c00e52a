"""`manage.py import_osv FILE...`: import OSV exports (all.zip or .json) and re-evaluate."""

from __future__ import annotations

import zipfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from scanning.osv import OsvInvalid, osv_documents_read
from scanning.services.advisories import advisories_import


class Command(BaseCommand):
    help = "Import OSV vulnerability records (per-ecosystem all.zip exports or .json files)."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path)

    def handle(self, *args, files, **options):
        for path in files:
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
            try:
                result = advisories_import(osv_documents_read(path))
            except (OsvInvalid, ValueError, zipfile.BadZipFile) as exc:
                raise CommandError(f"{path}: not an OSV export: {exc}") from None
            self.stdout.write(
                f"{path}: {result.created} new, {result.updated} updated, "
                f"{result.unchanged} unchanged, {result.withdrawn} withdrawn, "
                f"{result.invalid} invalid; {result.reevaluated} images re-evaluated"
            )
