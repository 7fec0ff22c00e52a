from django.urls import path

from hub import apis

app_name = "hub-api"

urlpatterns = [
    path("users/me/", apis.UserMeApi.as_view(), name="user-me"),
]
