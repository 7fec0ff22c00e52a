from django.urls import path

from registry_api import views

app_name = "registry"

urlpatterns = [
    path("", views.base, name="base"),
]
