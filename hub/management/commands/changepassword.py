"""Django's changepassword, saying first which database holds the account it changes."""

from django.contrib.auth.management.commands import changepassword

from hub.management.database import database_description


class Command(changepassword.Command):
    def handle(self, *args, **options):
        self.stdout.write(f"Database: {database_description(options['database'])}")
        return super().handle(*args, **options)
