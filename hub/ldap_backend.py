"""Directory sign-in: django-auth-ldap with Dockyard's provisioning and group mapping.

A directory account is marked by an unusable local password: its password lives in the
directory only. An existing account with a usable password, or an organization, of the same
name is a collision and is refused (PermissionDenied stops the backend chain).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django_auth_ldap.backend import LDAPBackend

from hub.directory_groups import directory_groups_apply, provisioned_name_check
from hub.models import DirectoryGrant


def _refuse(ldap_user, message: str):
    """Stop sign-in; the portal's form shows `message` (the directory password was right, so
    this tells nothing to someone guessing)."""
    request = getattr(ldap_user, "_request", None)
    if request is not None:
        request.directory_refusal = message
    raise PermissionDenied(message)


class DirectoryBackend(LDAPBackend):
    def get_or_build_user(self, username, ldap_user):
        username = username.lower()
        user = get_user_model().objects.filter(username=username).first()
        if user is not None:
            if user.has_usable_password():
                _refuse(
                    ldap_user,
                    _(
                        "A local account named %(name)s already exists; ask an "
                        "administrator to link it."
                    )
                    % {"name": username},
                )
            return user, False
        try:
            provisioned_name_check(username)
        except ValidationError as exc:
            _refuse(
                ldap_user,
                _("Your directory name %(name)s cannot be used here: %(reason)s")
                % {"name": username, "reason": " ".join(exc.messages)},
            )
        from hub.audit import audit_record

        audit_record(action="directory.provision", target=username)
        user = get_user_model()(username=username)
        user.set_unusable_password()
        return user, True

    def authenticate_ldap_user(self, ldap_user, password):
        try:
            with transaction.atomic():
                user = super().authenticate_ldap_user(ldap_user, password)
                if user is not None:
                    directory_groups_apply(
                        user=user,
                        groups=ldap_user.group_dns,
                        group_map=settings.LDAP_GROUP_MAP,
                        source=DirectoryGrant.Source.LDAP,
                    )
        except IntegrityError:  # the directory's e-mail address belongs to another account
            _refuse(ldap_user, _("Your directory e-mail address is used by another account."))
        return user


def directory_sync() -> dict[str, int]:
    """Deactivate directory accounts gone from the directory; re-apply LDAP_GROUP_MAP to the rest.

    A deactivated account's access tokens stop working too (they check user.is_active).
    """
    from hub.audit import audit_record

    backend = DirectoryBackend()
    counts = {"kept": 0, "deactivated": 0}
    for user in get_user_model().objects.filter(is_active=True, password__startswith="!"):  # noqa: S106 (unusable)
        found = backend.populate_user(user.username)
        if found is None:
            user.is_active = False
            user.save(update_fields=["is_active"])
            audit_record(action="directory.deprovision", target=user.username)
            counts["deactivated"] += 1
            continue
        directory_groups_apply(
            user=found,
            groups=found.ldap_user.group_dns,
            group_map=settings.LDAP_GROUP_MAP,
            source=DirectoryGrant.Source.LDAP,
        )
        counts["kept"] += 1
    return counts
