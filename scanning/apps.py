from django.apps import AppConfig


class ScanningConfig(AppConfig):
    name = "scanning"
    verbose_name = "Scanning"

    def ready(self):
        # Scans start from the registry's push signal; tasks register with Celery here.
        from scanning import receivers, tasks  # noqa: F401
