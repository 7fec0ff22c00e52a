from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self):
        # Registers the Celery tasks, which the services queue by name (they never import them).
        from webhooks import tasks  # noqa: F401
