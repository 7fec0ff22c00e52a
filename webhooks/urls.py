"""The webhooks pages under a repository: /r/<namespace>/<name>/-/webhooks/…

`<name>` may contain slashes; the `/-/webhooks/` segment cannot be part of a repository name.
"""

from django.urls import re_path

from webhooks import views

app_name = "webhooks"

REPO = r"^r/(?P<namespace>[^/]+)/(?P<name>.+)/-/webhooks/"
HOOK = REPO + r"(?P<webhook_id>[0-9]+)/"

urlpatterns = [
    re_path(REPO + r"$", views.webhook_list, name="list"),
    re_path(HOOK + r"$", views.webhook_detail, name="detail"),
    re_path(HOOK + r"delete/$", views.webhook_delete, name="delete"),
    re_path(HOOK + r"test/$", views.webhook_test, name="test"),
    re_path(
        HOOK + r"deliveries/(?P<delivery_id>[0-9]+)/redeliver/$",
        views.delivery_redeliver,
        name="redeliver",
    ),
]
