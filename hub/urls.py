from django.urls import path

from hub.views import pages

app_name = "hub"

urlpatterns = [
    path("", pages.explore, name="explore"),
    path("u/<str:namespace>/", pages.profile, name="profile"),
    path("r/<str:namespace>/<path:name>/", pages.repository_detail, name="repository-detail"),
]
