"""REST routes for proxy caches; included under /api/v1/ (see hub/api_urls.py)."""

from django.urls import path

from registry_api.proxy import api

app_name = "proxy-api"

urlpatterns = [
    path("proxy-caches/", api.ProxyCacheListApi.as_view(), name="proxy-cache-list"),
    path(
        "proxy-caches/<str:namespace>/",
        api.ProxyCacheDetailApi.as_view(),
        name="proxy-cache-detail",
    ),
]
