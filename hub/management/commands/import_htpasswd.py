"""Import the users of a registry:2 htpasswd file, keeping their bcrypt hashes as they are."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from hub.services.htpasswd import HtpasswdRefused, htpasswd_apply, htpasswd_plan

OUTCOMES = ("created", "updated", "unchanged", "kept")


class Command(BaseCommand):
    help = (
        "Create (or update the password of) one user per line of an htpasswd file. "
        "Only bcrypt hashes (htpasswd -B, as registry:2 requires) are accepted; users keep "
        "their passwords, re-hashed with Argon2 at their first sign-in. Names outside the "
        "username grammar (Admin.User, john@corp) are mapped to valid ones (admin.user, "
        "john-corp) and each mapping is printed; collisions refuse the import."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="the htpasswd file")
        parser.add_argument(
            "--no-update",
            action="store_true",
            help="leave existing users' passwords alone",
        )
        parser.add_argument("--dry-run", action="store_true", help="report, write nothing")

    def handle(self, *args, file: Path, no_update: bool, dry_run: bool, **options):
        try:
            text = file.read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {file}: {exc}") from exc
        try:
            plan = htpasswd_plan(text)
        except HtpasswdRefused as refused:
            for problem in refused.problems:
                self.stderr.write(f"collision: {problem}")
            raise CommandError(
                f"{len(refused.problems)} name collision(s), nothing imported: rename the "
                "entries in the file (or the existing accounts) and run again."
            ) from None
        for entry in plan.entries:
            if entry.mapped:
                self.stdout.write(f"{entry.name} -> {entry.username}")
        outcomes = htpasswd_apply(plan, update=not no_update, dry_run=dry_run)
        for outcome, entry in outcomes:
            if outcome in ("created", "updated"):
                verb = f"would {outcome[:-1]}" if dry_run else outcome
                self.stdout.write(f"{verb} {entry.username}")
            elif outcome == "kept":
                self.stdout.write(f"{entry.username} exists, password left alone (--no-update)")
        count = {kind: sum(outcome == kind for outcome, _ in outcomes) for kind in OUTCOMES}
        mapped = sum(entry.mapped for entry in plan.entries)
        self.stdout.write(
            f"{'Dry run: would import' if dry_run else 'Imported'} {count['created']} new, "
            f"updated {count['updated']}, unchanged {count['unchanged'] + count['kept']}, "
            f"mapped {mapped}, errors {len(plan.errors)}."
        )
        if plan.errors:
            for error in plan.errors:
                self.stderr.write(f"error: {error}")
            entries = f"{len(plan.errors)} entr{'y' if len(plan.errors) == 1 else 'ies'}"
            raise CommandError(
                f"{entries} became no account (listed above); the others "
                f"{'would be' if dry_run else 'were'} imported."
            )
