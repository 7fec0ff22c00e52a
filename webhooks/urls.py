"""The webhooks pages: /r/<namespace>/<name>/-/webhooks/… for a repository's hooks and
/u/<org>/-/webhooks/… for an organization's (fired for all its repositories).

`<name>` may contain slashes; the `/-/webhooks/` segment cannot be part of a repository name.
"""

from django.urls import re_path

from webhooks import views

app_name = "webhooks"

REPO = r"^r/(?P<namespace>[^/]+)/(?P<name>.+)/-/webhooks/"
ORG = r"^u/(?P<org>[^/]+)/-/webhooks/"
HOOK = r"(?P<webhook_id>[0-9]+)/"


def _routes(base: str, prefix: str) -> list:
    return [
        re_path(base + r"$", views.webhook_list, name=f"{prefix}list"),
        re_path(base + HOOK + r"$", views.webhook_detail, name=f"{prefix}detail"),
        re_path(base + HOOK + r"delete/$", views.webhook_delete, name=f"{prefix}delete"),
        re_path(base + HOOK + r"test/$", views.webhook_test, name=f"{prefix}test"),
        re_path(
            base + HOOK + r"deliveries/(?P<delivery_id>[0-9]+)/redeliver/$",
            views.delivery_redeliver,
            name=f"{prefix}redeliver",
        ),
    ]


urlpatterns = _routes(REPO, "") + _routes(ORG, "org-")
