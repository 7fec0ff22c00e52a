from django.urls import path

from hub import views

app_name = "hub"

urlpatterns = [
    path("", views.explore, name="explore"),
    path("u/<str:namespace>/", views.profile, name="profile"),
    path("r/<str:namespace>/<path:name>/", views.repository_detail, name="repository-detail"),
]
