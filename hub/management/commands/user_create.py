"""Create an account from the shell, whatever SIGNUP says, with the sign-up page's checks."""

from __future__ import annotations

import getpass
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from hub.forms import SignUpForm


class Command(BaseCommand):
    help = (
        "Create a user (reserved and taken names, the e-mail rule and password rules apply). "
        "The password is read from standard input (--password-stdin) or asked for."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", required=True)
        parser.add_argument(
            "--password-stdin", action="store_true", help="Read the password from stdin."
        )
        parser.add_argument("--staff", action="store_true", help="May use the admin site.")

    def handle(self, *args, username, email, password_stdin, staff, **options):
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass("Password: ")
        form = SignUpForm(
            {"username": username, "email": email, "password1": password, "password2": password}
        )
        if not form.is_valid():
            problems = [f"{field}: {' '.join(errors)}" for field, errors in form.errors.items()]
            raise CommandError("Cannot create the user. " + "; ".join(problems))
        user = form.save(commit=False)
        user.is_staff = staff
        user.save()
        database = settings.DATABASES["default"]["NAME"]
        self.stdout.write(f"Created user {user.username} in database {database}.")
