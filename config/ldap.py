"""LDAP / Active Directory sign-in settings (issue 17), read only when LDAP_SERVER_URI is set.

django-auth-ldap needs python-ldap, a C extension built against libldap: it is an optional
dependency (requirements-ldap.txt), so an install without LDAP never needs the -dev packages.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_str
from config.group_map import group_map_from_env

LOCAL_BACKEND = "hub.local_backend.LocalBackend"
LDAP_BACKEND = "hub.ldap_backend.DirectoryBackend"


def ldap_settings() -> dict:
    """The settings module's LDAP names; {} (and ModelBackend only) when LDAP is not configured."""
    uri = env_str("LDAP_SERVER_URI", "").strip()
    local = env_bool("LOCAL_SIGN_IN", True)
    out: dict = {"LOCAL_SIGN_IN": local, "LDAP_ENABLED": bool(uri)}
    if not uri:
        out["AUTHENTICATION_BACKENDS"] = [LOCAL_BACKEND]
        return out
    try:
        import ldap
        from django_auth_ldap.config import GroupOfNamesType, LDAPSearch
    except ImportError as exc:
        raise ImproperlyConfigured(
            "LDAP_SERVER_URI is set but django-auth-ldap/python-ldap is not installed: "
            "pip install -r requirements-ldap.txt (needs libldap2-dev and libsasl2-dev to build)."
        ) from exc
    user_base = env_str("LDAP_USER_SEARCH_BASE", "")
    if not user_base:
        raise ImproperlyConfigured("LDAP_SERVER_URI is set but LDAP_USER_SEARCH_BASE is empty")
    group_base = env_str("LDAP_GROUP_SEARCH_BASE", "")
    options = {ldap.OPT_REFERRALS: 0, ldap.OPT_NETWORK_TIMEOUT: 10}
    ca_file = env_str("LDAP_CA_FILE", "")
    if ca_file:
        options[ldap.OPT_X_TLS_CACERTFILE] = ca_file
        options[ldap.OPT_X_TLS_REQUIRE_CERT] = ldap.OPT_X_TLS_DEMAND
        options[ldap.OPT_X_TLS_NEWCTX] = 0  # applies the options above; must come last
    out.update(
        AUTH_LDAP_SERVER_URI=uri,
        AUTH_LDAP_BIND_DN=env_str("LDAP_BIND_DN", ""),
        AUTH_LDAP_BIND_PASSWORD=env_str("LDAP_BIND_PASSWORD", ""),
        AUTH_LDAP_START_TLS=env_bool("LDAP_START_TLS", False),
        AUTH_LDAP_CONNECTION_OPTIONS=options,
        AUTH_LDAP_USER_SEARCH=LDAPSearch(
            user_base, ldap.SCOPE_SUBTREE, env_str("LDAP_USER_FILTER", "(uid=%(user)s)")
        ),
        AUTH_LDAP_USER_ATTR_MAP={
            "email": env_str("LDAP_ATTR_EMAIL", "mail"),
            "first_name": env_str("LDAP_ATTR_FULL_NAME", "cn"),
        },
        AUTH_LDAP_ALWAYS_UPDATE_USER=True,
        # Provisioning (name checks, collisions) is ours: hub.ldap_backend creates the user.
        AUTH_LDAP_NO_NEW_USERS=False,
        AUTH_LDAP_GROUP_SEARCH=(
            LDAPSearch(group_base, ldap.SCOPE_SUBTREE, "(objectClass=groupOfNames)")
            if group_base
            else None
        ),
        AUTH_LDAP_GROUP_TYPE=GroupOfNamesType(),
        AUTH_LDAP_FIND_GROUP_PERMS=False,
        LDAP_GROUP_MAP=group_map_from_env("LDAP_GROUP_MAP"),
        LDAP_SYNC_INTERVAL=env_int("LDAP_SYNC_INTERVAL", 900),
        AUTHENTICATION_BACKENDS=[LDAP_BACKEND, LOCAL_BACKEND],
    )
    return out
