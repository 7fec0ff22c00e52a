"""A directory user runs `docker login` with their slapd password and pushes into the
organization their group maps them to; elsewhere is denied; removed from the directory, the next
push is refused after `manage.py sync_directory`."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import server_env
from tests.e2e.server import Server, drop_throwaway_database
from tests.ldap_server import slapd_server  # noqa: F401 - session fixture


@pytest.fixture(scope="module")
def ldap_setup(slapd_server, tmp_path_factory):  # noqa: F811
    dn = slapd_server.user_add("dirk", "dirk-directory-pw")
    group = slapd_server.group_add("team-e2e", [dn])
    env = server_env(
        tmp_path_factory,
        **slapd_server.settings_env(),
        LDAP_GROUP_MAP=json.dumps({group: "org:e2eorg"}),
    )
    server = Server(tmp_path_factory.mktemp("dockyard-ldap"), env=env)
    server.start()
    server.create_user("owner", "owner-local-password")
    server.python(
        "from django.contrib.auth import get_user_model\n"
        "from hub.services.organizations import organization_create\n"
        "owner = get_user_model().objects.get(username='owner')\n"
        "organization_create(owner=owner, name='e2eorg')\n"
    )
    yield server, slapd_server, dn
    server.stop()
    drop_throwaway_database(env["DATABASE_URL"])


def test_directory_user_docker_login_push_and_cut_off(ldap_setup, dockerd, app_archive, tmp_path):
    server, directory, dn = ldap_setup
    docker = dockerd.client(tmp_path / "docker")
    login = docker.cli(
        "login", server.address, "-u", "dirk", "--password-stdin", input="dirk-directory-pw"
    )
    assert "Login Succeeded" in login.stdout
    archive, loaded = app_archive
    docker.cli("load", "-i", str(archive))
    allowed = f"{server.address}/e2eorg/app:1"
    docker.cli("tag", loaded, allowed)
    docker.cli("push", allowed)
    elsewhere = f"{server.address}/owner/app:1"
    docker.cli("tag", loaded, elsewhere)
    denied = docker.cli("push", elsewhere, check=False)
    assert denied.returncode != 0

    directory.delete(dn)
    assert "deactivated 1" in server.manage("sync_directory")
    again = f"{server.address}/e2eorg/app:2"
    docker.cli("tag", loaded, again)
    refused = docker.cli("push", again, check=False)
    assert refused.returncode != 0
    relogin = docker.cli(
        "login", server.address, "-u", "dirk", "--password-stdin",
        input="dirk-directory-pw", check=False,
    )  # fmt: skip
    assert relogin.returncode != 0
