"""Django's createsuperuser, saying first which database the account goes into: a server and a
manage.py run with different DATA_DIR or DATABASE_URL would otherwise disagree in silence."""

from django.contrib.auth.management.commands import createsuperuser

from hub.management.database import database_description


class Command(createsuperuser.Command):
    def handle(self, *args, **options):
        self.stdout.write(f"Database: {database_description(options['database'])}")
        return super().handle(*args, **options)
