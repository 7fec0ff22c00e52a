"""Run the retention policies (all enabled ones, or one by --policy), or preview them."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from registry_api.models import RetentionPolicy
from registry_api.services.retention import retention_run


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="list, delete nothing")
        parser.add_argument("--policy", type=int, help="only this policy (by id), even disabled")

    def handle(self, *args, dry_run=False, policy=None, **options):
        policies = RetentionPolicy.objects.select_related("repository__namespace", "namespace")
        if policy is not None:
            policies = policies.filter(pk=policy)
            if not policies:
                raise CommandError(f"no retention policy {policy}")
        else:
            policies = policies.filter(enabled=True)
        verb = "would delete" if dry_run else "deleted"
        for found in policies.order_by("pk"):
            result = retention_run(found, dry_run=dry_run)
            self.stdout.write(
                f"{found}: {verb} {len(result.tags)} tag(s), {len(result.manifests)} "
                f"manifest(s), {result.freed_bytes} bytes"
            )
            for tag in result.tags:
                self.stdout.write(f"  tag {tag.repository}:{tag.name} ({tag.reason})")
            for manifest in result.manifests:
                self.stdout.write(
                    f"  manifest {manifest.repository}@{manifest.digest} ({manifest.reason})"
                )
            for skipped in result.skipped:
                self.stdout.write(f"  skipped {skipped}")
