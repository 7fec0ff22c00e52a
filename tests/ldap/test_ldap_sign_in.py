"""Directory users sign in on the portal, with docker's Basic and the token service; JIT
accounts, collisions, the group map, LOCAL_SIGN_IN=false and sync_directory."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command

from hub.models import Membership, Organization, Team
from hub.services.organizations import organization_create
from tests import factories
from tests.conftest import PASSWORD, basic_auth

pytestmark = pytest.mark.django_db

TOKEN_URL = "/auth/token"


def _name(directory, base: str) -> str:
    return f"{base}{directory.prefix}"


def _login(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def _token(client, username, password, scope="repository:x/app:push,pull"):
    from django.conf import settings

    return client.get(
        TOKEN_URL,
        {"service": settings.REGISTRY_SERVICE, "scope": scope},
        HTTP_AUTHORIZATION=basic_auth(username, password),
    )


def test_directory_user_signs_in_on_portal_and_is_provisioned(client, directory):
    name = _name(directory, "dana")
    directory.user_add(name, "dir-pass", mail=f"{name}@corp.test", cn="Dana Scully")
    response = _login(client, name, "dir-pass")
    assert response.status_code == 302, response.content
    user = get_user_model().objects.get(username=name)
    assert user.email == f"{name}@corp.test"
    assert user.first_name == "Dana Scully"
    assert not user.has_usable_password()
    assert _login(client.__class__(), name, "wrong").status_code == 200


def test_directory_password_on_v2_and_token_service(client, directory):
    name = _name(directory, "eve")
    directory.user_add(name, "dir-pass")
    assert client.get("/v2/", HTTP_AUTHORIZATION=basic_auth(name, "dir-pass")).status_code == 200
    assert client.get("/v2/", HTTP_AUTHORIZATION=basic_auth(name, "nope")).status_code == 401
    token = _token(client, name, "dir-pass", scope=f"repository:{name}/app:push,pull")
    assert token.status_code == 200, token.content
    assert _token(client, name, "nope").status_code == 401


def test_collision_with_local_account_is_refused_with_message(client, directory):
    name = _name(directory, "loc")
    factories.UserFactory(username=name)
    directory.user_add(name, "dir-pass")
    response = _login(client, name, "dir-pass")
    assert response.status_code == 200
    assert "A local account named" in response.content.decode()
    assert client.get("/v2/", HTTP_AUTHORIZATION=basic_auth(name, "dir-pass")).status_code == 401
    # the local password still works for the local account
    assert client.get("/v2/", HTTP_AUTHORIZATION=basic_auth(name, PASSWORD)).status_code == 200


def test_collision_with_organization_is_refused(client, directory, alice):
    name = _name(directory, "acme")
    organization_create(owner=alice, name=name)
    directory.user_add(name, "dir-pass")
    response = _login(client, name, "dir-pass")
    assert "cannot be used here" in response.content.decode()
    assert not get_user_model().objects.filter(username=name).exists()
    assert client.get("/v2/", HTTP_AUTHORIZATION=basic_auth(name, "dir-pass")).status_code == 401


def test_group_map_admin_org_team_and_removal(client, directory):
    name = _name(directory, "gus")
    dn = directory.user_add(name, "dir-pass")
    org = Organization.objects.create(name=_name(directory, "x"))
    team = Team.objects.create(organization=org, name="builders")
    admins = directory.group_add(_name(directory, "admins"), [dn])
    team_x = directory.group_add(_name(directory, "team-x"), [dn])
    builders = directory.group_add(_name(directory, "builders"), [dn])
    directory.configure(
        LDAP_GROUP_MAP=json.dumps(
            {admins: "admin", team_x: f"org:{org.name}", builders: f"org:{org.name}/team:builders"}
        )
    )
    assert _login(client, name, "dir-pass").status_code == 302
    user = get_user_model().objects.get(username=name)
    assert user.is_staff and user.is_superuser
    assert Membership.objects.filter(organization=org, user=user).exists()
    assert team.members.filter(pk=user.pk).exists()

    directory.group_remove_member(admins, dn)
    call_command("sync_directory")
    user.refresh_from_db()
    assert not user.is_staff and not user.is_superuser

    # Leaving the mapped groups removes what they granted (hub.directory_groups), and only that.
    by_hand = Organization.objects.create(name=_name(directory, "hand"))
    Membership.objects.create(organization=by_hand, user=user)
    directory.group_remove_member(builders, dn)
    call_command("sync_directory")
    assert not team.members.filter(pk=user.pk).exists()
    assert Membership.objects.filter(organization=org, user=user).exists()
    directory.group_remove_member(team_x, dn)
    cache.clear()  # a remembered password check (PASSWORD_CHECK_CACHE_SECONDS) skips LDAP
    assert _login(client.__class__(), name, "dir-pass").status_code == 302  # at sign-in too
    assert not Membership.objects.filter(organization=org, user=user).exists()
    assert Membership.objects.filter(organization=by_hand, user=user).exists()


def test_local_sign_in_false_refuses_local_people_keeps_robots_and_superusers(
    client, directory, alice
):
    directory.configure(LOCAL_SIGN_IN="false")
    assert client.get("/v2/", HTTP_AUTHORIZATION=basic_auth("alice")).status_code == 401
    assert _login(client, "alice", PASSWORD).status_code == 200
    from hub.models import Namespace
    from hub.services.robots import robot_create

    robot, secret = robot_create(
        namespace=Namespace.objects.get(name="alice"), name="ci", created_by=alice
    )
    robot_auth = basic_auth(robot.user.username, secret)
    assert client.get("/v2/", HTTP_AUTHORIZATION=robot_auth).status_code == 200
    root = factories.UserFactory(username="root", is_superuser=True, is_staff=True)
    assert client.get("/v2/", HTTP_AUTHORIZATION=basic_auth(root.username)).status_code == 200


def test_sync_directory_deactivates_removed_user_and_cuts_docker(client, directory):
    name = _name(directory, "ivy")
    dn = directory.user_add(name, "dir-pass")
    auth = basic_auth(name, "dir-pass")
    assert client.get("/v2/", HTTP_AUTHORIZATION=auth).status_code == 200
    directory.delete(dn)
    call_command("sync_directory")
    assert not get_user_model().objects.get(username=name).is_active
    assert client.get("/v2/", HTTP_AUTHORIZATION=auth).status_code == 401


def test_bad_group_map_json_names_variable(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from config.ldap import ldap_settings

    monkeypatch.setenv("LDAP_SERVER_URI", "ldap://127.0.0.1:1")
    monkeypatch.setenv("LDAP_USER_SEARCH_BASE", "dc=x")
    monkeypatch.setenv("LDAP_GROUP_MAP", "{not json")
    with pytest.raises(ImproperlyConfigured, match="LDAP_GROUP_MAP"):
        ldap_settings()


def test_ldap_configured_without_package_fails_with_one_sentence(monkeypatch):
    import sys

    from django.core.exceptions import ImproperlyConfigured

    from config.ldap import ldap_settings

    monkeypatch.setenv("LDAP_SERVER_URI", "ldap://127.0.0.1:1")
    monkeypatch.setitem(sys.modules, "ldap", None)  # as if python-ldap were not installed
    with pytest.raises(ImproperlyConfigured, match="requirements-ldap.txt"):
        ldap_settings()


@pytest.mark.parametrize("mode", ["ldaps", "starttls"])
def test_tls_with_ca_file(client, directory, mode):
    name = _name(directory, f"tls{mode[:2]}")
    directory.user_add(name, "dir-pass")
    if mode == "ldaps":
        env = {"LDAP_SERVER_URI": directory.ldaps_uri}
    else:
        env = {"LDAP_SERVER_URI": directory.uri, "LDAP_START_TLS": "true"}
    directory.configure(LDAP_CA_FILE=directory.ca_file, **env)
    assert client.get("/v2/", HTTP_AUTHORIZATION=basic_auth(name, "dir-pass")).status_code == 200


def test_tls_with_wrong_ca_file_refuses(client, directory, tmp_path):
    name = _name(directory, "tlsbad")
    directory.user_add(name, "dir-pass")
    from tests.ldap_server import _certificates

    _certificates(tmp_path)  # another CA: the server's certificate does not chain to it
    directory.configure(LDAP_SERVER_URI=directory.ldaps_uri, LDAP_CA_FILE=str(tmp_path / "ca.pem"))
    assert client.get("/v2/", HTTP_AUTHORIZATION=basic_auth(name, "dir-pass")).status_code == 401
