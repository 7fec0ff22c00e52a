"""The beat entry of `manage.py sync_directory` (config/settings.py, LDAP_SYNC_INTERVAL)."""

from celery import shared_task


@shared_task
def directory_sync():
    from hub.ldap_backend import directory_sync as sync

    return sync()
