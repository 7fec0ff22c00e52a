"""The project's URLs plus the proxy-cache REST routes, until hub/api_urls.py includes them."""

from django.urls import include, path

from config.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("api/v1/", include("registry_api.proxy.api_urls")),
    *project_urlpatterns,
]
