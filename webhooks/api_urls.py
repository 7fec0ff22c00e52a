"""REST endpoints for webhooks, mounted under /api/v1/ by hub/api_urls.py (namespace "hub-api").

Repository names may contain slashes, so each pattern is anchored at its end on `/webhooks/…`:
`repositories/<namespace>/<name>/webhooks/` never matches a plain repository route.
Organization hooks live at `orgs/<name>/webhooks/…` and fire for every repository of the org.
"""

from django.urls import re_path

from webhooks import apis

REPO = r"^repositories/(?P<namespace>[^/]+)/(?P<name>.+)/webhooks/"
ORG = r"^orgs/(?P<name>[^/]+)/webhooks/"
HOOK = r"(?P<webhook_id>[0-9]+)/"


def _routes(base: str, prefix: str, views: dict) -> list:
    return [
        re_path(base + r"$", views["list"].as_view(), name=f"{prefix}-list"),
        re_path(base + HOOK + r"$", views["detail"].as_view(), name=f"{prefix}-detail"),
        re_path(
            base + HOOK + r"deliveries/$",
            views["deliveries"].as_view(),
            name=f"{prefix}-deliveries",
        ),
        re_path(
            base + HOOK + r"deliveries/(?P<delivery_id>[0-9]+)/redeliver/$",
            views["redeliver"].as_view(),
            name=f"{prefix}-redeliver",
        ),
        re_path(base + HOOK + r"test/$", views["test"].as_view(), name=f"{prefix}-test"),
    ]


urlpatterns = _routes(
    REPO,
    "webhook",
    {
        "list": apis.WebhookListApi,
        "detail": apis.WebhookDetailApi,
        "deliveries": apis.WebhookDeliveryListApi,
        "redeliver": apis.WebhookRedeliverApi,
        "test": apis.WebhookTestApi,
    },
) + _routes(
    ORG,
    "org-webhook",
    {
        "list": apis.OrgWebhookListApi,
        "detail": apis.OrgWebhookDetailApi,
        "deliveries": apis.OrgWebhookDeliveryListApi,
        "redeliver": apis.OrgWebhookRedeliverApi,
        "test": apis.OrgWebhookTestApi,
    },
)
