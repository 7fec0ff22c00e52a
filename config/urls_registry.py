"""The route table of the lean /v2/ request path (see config/wsgi.py)."""

from django.urls import include, path

urlpatterns = [path("v2/", include("registry_api.urls"))]
