"""Grant or withdraw an organization's publisher badges from the shell (administrators only,
like the admin site): `manage.py publisher_badges acme --verified --no-sponsored`."""

from __future__ import annotations

import argparse

from django.core.management.base import BaseCommand, CommandError

from hub.models import Organization
from hub.services.publishers import publisher_badges_set


class Command(BaseCommand):
    help = "Show, grant (--verified, --sponsored) or withdraw (--no-...) an organization's badges."

    def add_arguments(self, parser):
        parser.add_argument("organization", help="The organization's name.")
        parser.add_argument(
            "--verified",
            action=argparse.BooleanOptionalAction,
            help="Grant (or with --no-verified withdraw) the verified-publisher badge.",
        )
        parser.add_argument(
            "--sponsored",
            action=argparse.BooleanOptionalAction,
            help="Grant (or with --no-sponsored withdraw) the sponsored badge.",
        )

    def handle(self, *args, **options):
        name = options["organization"]
        organization = Organization.objects.filter(name=name).first()
        if organization is None:
            raise CommandError(f"There is no organization named {name!r}.")
        publisher_badges_set(
            organization=organization,
            verified_publisher=options["verified"],
            sponsored=options["sponsored"],
        )
        self.stdout.write(
            f"{organization.name}: verified publisher "
            f"{'yes' if organization.verified_publisher else 'no'}, "
            f"sponsored {'yes' if organization.sponsored else 'no'}."
        )
