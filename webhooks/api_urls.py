"""REST endpoints for webhooks, mounted under /api/v1/ by hub/api_urls.py (namespace "hub-api").

Repository names may contain slashes, so each pattern is anchored at its end on `/webhooks/…`:
`repositories/<namespace>/<name>/webhooks/` never matches a plain repository route.
"""

from django.urls import re_path

from webhooks import apis

REPO = r"^repositories/(?P<namespace>[^/]+)/(?P<name>.+)/webhooks/"
HOOK = REPO + r"(?P<webhook_id>[0-9]+)/"

urlpatterns = [
    re_path(REPO + r"$", apis.WebhookListApi.as_view(), name="webhook-list"),
    re_path(HOOK + r"$", apis.WebhookDetailApi.as_view(), name="webhook-detail"),
    re_path(
        HOOK + r"deliveries/$", apis.WebhookDeliveryListApi.as_view(), name="webhook-deliveries"
    ),
    re_path(
        HOOK + r"deliveries/(?P<delivery_id>[0-9]+)/redeliver/$",
        apis.WebhookRedeliverApi.as_view(),
        name="webhook-redeliver",
    ),
    re_path(HOOK + r"test/$", apis.WebhookTestApi.as_view(), name="webhook-test"),
]
