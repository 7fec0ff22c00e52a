"""Create the admin named by DJANGO_SUPERUSER_* once; leave an existing account alone."""

import os

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from hub.management.database import database_description


class Command(BaseCommand):
    help = "Create the superuser from DJANGO_SUPERUSER_USERNAME/_PASSWORD/_EMAIL if missing."

    def handle(self, *args, **options):
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME", "")
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD", "")
        if not username or not password:
            raise CommandError("Set DJANGO_SUPERUSER_USERNAME and DJANGO_SUPERUSER_PASSWORD.")
        User = get_user_model()
        database = database_description()
        if User.objects.filter(username=username).exists():
            self.stdout.write(f"Admin {username} already exists (database: {database}).")
            return
        user = User(username=username, email=os.environ.get("DJANGO_SUPERUSER_EMAIL", ""))
        try:
            user.full_clean(exclude=["password"])
        except ValidationError as exc:  # e.g. an e-mail address another account has
            raise CommandError(
                f"Cannot create admin {username}: {'; '.join(exc.messages)}"
            ) from exc
        user.set_password(password)
        user.is_staff = user.is_superuser = True
        user.save()
        self.stdout.write(f"Created admin {username} (database: {database}).")
