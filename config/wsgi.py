"""WSGI entry point (gunicorn serves `application`). Registry requests take their lean path
inside the one middleware stack of settings.MIDDLEWARE (config.registry_middleware)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
