"""Accounts, organizations, access tokens and the registry token service."""

from django.urls import path

from hub.views import token_service

app_name = "accounts"

urlpatterns = [
    path("auth/token", token_service.token, name="token"),
    path(".well-known/jwks.json", token_service.jwks_view, name="jwks"),
]
