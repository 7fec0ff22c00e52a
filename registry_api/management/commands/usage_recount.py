"""Recompute every repository's storage counters (logical and stored bytes) from the registry's
records and report those that drifted; --repair writes the recomputed values. Exits 1 when drift
is found and not repaired, so a scheduled check can alert."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone

from hub.models import Repository
from registry_api.selectors.usage import repository_logical_stored
from registry_api.services.usage import usage_generation_replace


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--repair", action="store_true", help="write the recomputed values")

    def handle(self, *args, repair=False, **options):
        checked = drifted = 0
        repositories = Repository.objects.select_related("namespace").order_by("pk")
        for repository in repositories.iterator():
            checked += 1
            logical, stored = repository_logical_stored(repository)
            if (logical, stored) == (repository.logical_bytes, repository.stored_bytes):
                continue
            drifted += 1
            self.stdout.write(
                f"{repository.full_name}: logical {repository.logical_bytes} -> {logical}, "
                f"stored {repository.stored_bytes} -> {stored}"
            )
            if repair:
                Repository.objects.filter(pk=repository.pk).update(
                    logical_bytes=logical, stored_bytes=stored, usage_updated_at=timezone.now()
                )
        usage_generation_replace()  # exclusive figures are recomputed on their next read
        verb = "repaired" if repair else "drifted"
        self.stdout.write(f"checked {checked} repositories, {drifted} {verb}")
        if drifted and not repair:
            raise SystemExit(1)
