import logging.config
import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _json_logging(loglevel=None, **kwargs):
    """Celery's lines through settings.LOGGING's JSON handler: with a receiver for this signal
    Celery installs no text handler of its own."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    if loglevel:
        logging.getLogger("celery").setLevel(loglevel)


# Decided from the environment (scripts/run.sh exports the .env file's values): Celery may set
# its logging up before Django's settings load.
if os.environ.get("LOG_FORMAT") == "json":
    signals.setup_logging.connect(_json_logging, weak=False)


@signals.worker_process_shutdown.connect
@signals.worker_shutdown.connect
def _metrics_process_dead(**kwargs):
    from config.metrics_files import process_dead

    process_dead(os.getpid())
