"""OpenID Connect sign-in: mozilla-django-oidc with Dockyard's provisioning and group mapping.

An account is linked to the provider's (issuer, sub) by an OIDCIdentity row, never by name or
e-mail: a later rename at the provider signs in to the same account (its Dockyard name, which is
its namespace, stays). The first sign-in creates the account with an unusable password, so
docker logs in with a personal access token, never an IdP password. A name taken by a local
account, an organization or a reserved name is refused with a message on the sign-in page.
"""

from __future__ import annotations

import logging
import time

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied, SuspiciousOperation, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from hub.directory_groups import directory_groups_apply, provisioned_name_check
from hub.models import DirectoryGrant, OIDCIdentity
from hub.oidc_discovery import ProviderUnavailable, oidc_setting

log = logging.getLogger(__name__)


def refuse(request, message: str):
    """Stop sign-in; the callback shows `message` on the sign-in page."""
    if request is not None:
        request.directory_refusal = message
    raise PermissionDenied(message)


class OIDCBackend(OIDCAuthenticationBackend):
    get_settings = staticmethod(oidc_setting)

    def __init__(self, *args, **kwargs):
        # Django builds every backend for every authenticate() call (passwords too): the
        # provider's endpoints are looked up only when an OIDC callback authenticates.
        self.UserModel = get_user_model()

    def get_user(self, user_id):
        # ModelBackend's, not mozilla-django-oidc's: a deactivated account's session ends.
        return ModelBackend.get_user(self, user_id)

    def authenticate(self, request, **kwargs):
        # Only the callback view passes a nonce: a password sign-in never reaches the provider.
        if request is None or "nonce" not in kwargs or not settings.OIDC_ENABLED:
            return None
        self.id_claims: dict = {}
        try:
            super().__init__()
            with transaction.atomic():
                return super().authenticate(request, **kwargs)
        except IntegrityError:  # the provider's e-mail address belongs to another account
            refuse(
                request,
                _("Your e-mail address is used by another account."),
            )
        except (ProviderUnavailable, requests.RequestException, SuspiciousOperation) as exc:
            log.warning("OpenID Connect sign-in failed: %s", exc)
            refuse(request, _("The sign-in provider could not be reached or refused the sign-in."))

    def verify_token(self, token, **kwargs):
        """The signature and nonce (mozilla-django-oidc), then issuer, audience and expiry."""
        payload = super().verify_token(token, **kwargs)
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if str(payload.get("iss", "")).rstrip("/") != settings.OIDC_ISSUER:
            raise SuspiciousOperation("ID token from another issuer")
        if settings.OIDC_CLIENT_ID not in audiences:
            raise SuspiciousOperation("ID token for another client")
        if float(payload.get("exp", 0)) < time.time():
            raise SuspiciousOperation("ID token expired")
        if "nonce" in kwargs:  # the ID token, not a signed userinfo answer
            self.id_claims = payload
        return payload

    def get_userinfo(self, access_token, id_token, payload):
        """Userinfo claims over the ID token's (a provider may put groups in either one)."""
        userinfo = super().get_userinfo(access_token, id_token, payload)
        if userinfo.get("sub") != payload.get("sub"):  # OpenID Connect Core 5.3.2
            raise SuspiciousOperation("userinfo is about another subject")
        return {**payload, **userinfo}

    def verify_claims(self, claims) -> bool:
        return bool(claims.get("sub")) and bool(self._username(claims))

    def _username(self, claims) -> str:
        return str(claims.get(settings.OIDC_USERNAME_CLAIM) or "").strip().lower()

    def filter_users_by_claims(self, claims):
        return self.UserModel.objects.filter(
            oidc_identity__issuer=settings.OIDC_ISSUER, oidc_identity__subject=claims["sub"]
        )

    def create_user(self, claims):
        username = self._username(claims)
        if self.UserModel.objects.filter(username=username).exists():
            refuse(
                self.request,
                _("An account named %(name)s already exists here; ask an administrator to link it.")
                % {"name": username},
            )
        try:
            provisioned_name_check(username)
        except ValidationError as exc:
            refuse(
                self.request,
                _("Your sign-in name %(name)s cannot be used here: %(reason)s")
                % {"name": username, "reason": " ".join(exc.messages)},
            )
        from hub.audit import audit_record

        user = self.UserModel(username=username)
        user.set_unusable_password()
        user.save()
        OIDCIdentity.objects.create(user=user, issuer=settings.OIDC_ISSUER, subject=claims["sub"])
        audit_record(action="directory.provision", target=username, data={"source": "oidc"})
        return self.update_user(user, claims)

    def update_user(self, user, claims):
        if not user.is_active:  # deactivated by an administrator: the callback refuses it
            self.request.directory_refusal = _("This account is deactivated.")
            return user
        # An address the provider says it has not verified is not taken: password-reset mail
        # goes to it, and it must not squat an address its owner signs up with later.
        if claims.get("email_verified", True) is not False:
            user.email = str(claims.get("email") or "")[:254]
        user.first_name = str(claims.get("name") or "")[:150]
        user.save(update_fields=["email", "first_name"])
        groups = claims.get(settings.OIDC_GROUPS_CLAIM) or []
        if isinstance(groups, str):
            groups = [groups]
        directory_groups_apply(
            user=user,
            groups=[str(g) for g in groups],
            group_map=settings.OIDC_GROUP_MAP,
            source=DirectoryGrant.Source.OIDC,
        )
        OIDCIdentity.objects.filter(user=user).update(last_sign_in_at=timezone.now())
        return user
