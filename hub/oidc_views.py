"""OpenID Connect sign-in views: mozilla-django-oidc's, with refusals shown on the sign-in page
and RP-initiated logout at the provider."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from mozilla_django_oidc import views as oidc_views

from hub.oidc_discovery import ProviderUnavailable, end_session_url, oidc_setting
from hub.site_url import site_url

log = logging.getLogger(__name__)


def _unavailable(request, exc) -> HttpResponseRedirect:
    log.warning("OpenID Connect provider unavailable: %s", exc)
    messages.error(request, _("The sign-in provider could not be reached. Try again later."))
    return redirect("login")


class AuthenticateView(oidc_views.OIDCAuthenticationRequestView):
    get_settings = staticmethod(oidc_setting)

    def __init__(self, *args, **kwargs):
        # The endpoint comes from discovery: looked up per request (cached), not at import.
        oidc_views.View.__init__(self, *args, **kwargs)

    def get(self, request):
        if not settings.OIDC_ENABLED:
            raise Http404
        try:
            self.OIDC_OP_AUTH_ENDPOINT = self.get_settings("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except ProviderUnavailable as exc:
            return _unavailable(request, exc)
        self.OIDC_RP_CLIENT_ID = settings.OIDC_CLIENT_ID
        return super().get(request)


class CallbackView(oidc_views.OIDCAuthenticationCallbackView):
    get_settings = staticmethod(oidc_setting)

    def get(self, request):
        if not settings.OIDC_ENABLED:
            raise Http404
        return super().get(request)

    @property
    def failure_url(self) -> str:
        return settings.LOGIN_URL

    def login_failure(self):
        refusal = getattr(self.request, "directory_refusal", None)
        if self.request.GET.get("error"):  # the user cancelled, or the provider said no
            refusal = refusal or _("The sign-in provider did not sign you in.")
        messages.error(self.request, refusal or _("Signing in with the provider failed."))
        return redirect("login")


class LogoutView(auth_views.LogoutView):
    """Django's sign-out; a session that began at the OpenID provider ends there too."""

    def post(self, request, *args, **kwargs):
        id_token = request.session.get("oidc_id_token")
        response = super().post(request, *args, **kwargs)
        if id_token and settings.OIDC_ENABLED:
            url = end_session_url(id_token, site_url() + "/")
            if url:
                return HttpResponseRedirect(url)
        return response
