"""Deactivate directory users gone from LDAP and re-apply the group map (LDAP_SYNC_INTERVAL)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Deactivate users removed from the LDAP directory and re-apply LDAP_GROUP_MAP."

    def handle(self, *args, **options):
        if not settings.LDAP_ENABLED:
            # OpenID Connect has no directory listing to compare with: its group map is applied
            # at each sign-in, and an administrator deactivates accounts that left.
            oidc = ""
            if settings.OIDC_ENABLED:
                oidc = " (OpenID Connect accounts sync at each sign-in)"
            raise CommandError(f"LDAP_SERVER_URI is not set: there is no directory to sync{oidc}.")
        from hub.ldap_backend import directory_sync

        counts = directory_sync()
        self.stdout.write(f"kept {counts['kept']}, deactivated {counts['deactivated']}")
