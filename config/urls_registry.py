"""The route table of /v2/ requests (config.registry_middleware.RegistryUrlconfMiddleware)."""

from django.urls import include, path

urlpatterns = [path("v2/", include("registry_api.urls"))]
