from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config import health, metrics

urlpatterns = [
    # First: no portal pattern may shadow them; anonymous, never sent to sign in.
    path("-/healthy", health.healthy, name="health-healthy"),
    path("-/ready", health.ready, name="health-ready"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("", include("hub.urls_accounts")),
    path("accounts/", include("django.contrib.auth.urls")),
    # OpenID Connect sign-in (hub.oidc_views); answers 404 unless OIDC_ISSUER is set.
    path("oidc/", include("mozilla_django_oidc.urls")),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file: no inline script for the CSP to allow.
    path(
        "api/v1/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"
    ),
    path("api/v1/", include("registry_api.proxy.api_urls")),
    path("api/v1/", include("scanning.api_urls")),
    path("api/v1/", include("hub.api_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("scanning.urls")),
    path("", include("webhooks.urls")),
    path("", include("hub.urls")),
]

handler404 = "hub.views.pages.page_not_found"
handler403 = "hub.views.pages.permission_denied"
