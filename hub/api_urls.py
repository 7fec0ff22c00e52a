from django.urls import path

from hub.apis import users

app_name = "hub-api"

urlpatterns = [
    path("users/me/", users.UserMeApi.as_view(), name="user-me"),
]
