"""Import the users of a registry:2 htpasswd file, keeping their bcrypt hashes as they are."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from hub.hashers import HtpasswdBCryptHasher
from hub.models import Namespace
from hub.names import validate_namespace_name

BCRYPT_PREFIXES = ("$2y$", "$2b$", "$2a$")


class Command(BaseCommand):
    help = (
        "Create (or update the password of) one user per line of an htpasswd file. "
        "Only bcrypt hashes (htpasswd -B, as registry:2 requires) are accepted; users keep "
        "their passwords, re-hashed with Argon2 at their first sign-in."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="the htpasswd file")
        parser.add_argument(
            "--no-update",
            action="store_true",
            help="leave existing users' passwords alone",
        )

    def handle(self, *args, file: Path, no_update: bool, **options):
        try:
            lines = file.read_text().splitlines()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc}") from exc
        created = updated = skipped = 0
        for number, line in enumerate(lines, start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            outcome = self._import_line(line, number, no_update=no_update)
            created += outcome == "created"
            updated += outcome == "updated"
            skipped += outcome == "skipped"
        self.stdout.write(f"Imported {created} new, updated {updated}, skipped {skipped}.")

    def _skip(self, number: int, why: str) -> str:
        self.stderr.write(f"line {number}: skipped: {why}")
        return "skipped"

    @transaction.atomic
    def _import_line(self, line: str, number: int, *, no_update: bool) -> str:
        username, sep, hashed = line.partition(":")
        if not sep or not hashed.startswith(BCRYPT_PREFIXES):
            return self._skip(number, "not a bcrypt entry (use htpasswd -B)")
        try:
            validate_namespace_name(username)
        except ValidationError:
            return self._skip(number, f"{username!r} is not a valid lowercase username")
        encoded = f"{HtpasswdBCryptHasher.algorithm}${hashed}"
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None:
            if Namespace.objects.filter(name=username).exists():
                return self._skip(number, f"{username!r} is taken by an organization")
            user = User(username=username)
            user.password = encoded
            user.save()
            self.stdout.write(f"created {username}")
            return "created"
        if no_update:
            return self._skip(number, f"{username} exists (--no-update)")
        user.password = encoded
        user.save(update_fields=["password"])
        self.stdout.write(f"updated {username}")
        return "updated"
