"""Robot accounts: services, credentials and the one authorization decision."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from hub import permissions
from hub.credentials import credentials_check, password_check
from hub.models import AuditEntry, Namespace, Robot
from hub.selectors import repository_list_visible
from hub.services.organizations import membership_add
from hub.services.robots import robot_create, robot_delete, robot_rotate, robot_update
from hub.services.social import collaborator_add
from tests import factories


@pytest.fixture
def acme_repos(acme):
    space = acme.namespace
    return {
        name: factories.RepositoryFactory(namespace=space, name=name, is_private=True)
        for name in ("app", "db")
    }


def _robot(namespace, name="ci", grants=(), **kwargs):
    return robot_create(
        namespace=namespace,
        name=name,
        created_by=None,
        permissions=[{"repository": r, "level": level} for r, level in grants],
        **kwargs,
    )


def _check(username, secret):
    return credentials_check(username=username, secret=secret, client_ip="10.0.0.1")


def test_create_makes_a_user_named_namespace_plus_name_without_namespace(acme, alice):
    robot, secret = robot_create(
        namespace=acme.namespace, name="ci", created_by=alice, description="builds"
    )
    assert robot.user.username == "acme+ci" == robot.full_name
    assert robot.user.password != secret and secret not in robot.user.password
    assert not Namespace.objects.filter(name="acme+ci").exists()
    entry = AuditEntry.objects.get(action="robot.create")
    assert entry.actor == alice and entry.target == "acme+ci"
    assert secret not in str(entry.data)


def test_robot_names_are_validated_and_unique(acme):
    _robot(acme.namespace)
    with pytest.raises(ValidationError):
        _robot(acme.namespace)
    for bad in ("Bad", "a+b", "", "x" * 65):
        with pytest.raises(ValidationError):
            _robot(acme.namespace, name=bad)


def test_grant_on_another_namespaces_repository_is_refused(acme, public_repo):
    with pytest.raises(ValidationError):
        _robot(acme.namespace, grants=[("app", "pull")])  # alice/app is not acme's


def test_secret_authenticates_and_rotate_kills_the_old_one_even_when_remembered(acme, settings):
    settings.PASSWORD_CHECK_CACHE_SECONDS = 60
    robot, secret = _robot(acme.namespace)
    assert _check("acme+ci", secret).user == robot.user
    assert _check("acme+ci", secret).user == robot.user  # now from the remembered check
    new = robot_rotate(robot=robot, actor=None)
    assert _check("acme+ci", secret) is None
    assert _check("acme+ci", new).user.pk == robot.user.pk
    assert AuditEntry.objects.filter(action="robot.rotate", target="acme+ci").count() == 1


def test_disabled_and_expired_robots_are_refused(acme, settings):
    settings.PASSWORD_CHECK_CACHE_SECONDS = 60
    robot, secret = _robot(acme.namespace)
    assert _check("acme+ci", secret) is not None
    robot_update(robot=robot, actor=None, disabled=True)
    assert _check("acme+ci", secret) is None
    robot_update(robot=robot, actor=None, disabled=False)
    assert _check("acme+ci", secret) is not None
    Robot.objects.filter(pk=robot.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert _check("acme+ci", secret) is None


def test_expiry_in_the_past_is_refused(acme):
    with pytest.raises(ValidationError):
        _robot(acme.namespace, expires_at=timezone.now() - dt.timedelta(minutes=1))


def test_robots_never_sign_in_to_the_portal(acme):
    _, secret = _robot(acme.namespace)
    assert password_check(username="acme+ci", password=secret, client_ip="10.0.0.1") is None


def test_last_used_is_written_at_most_once_a_minute(acme):
    robot, secret = _robot(acme.namespace)
    _check("acme+ci", secret)
    robot.refresh_from_db()
    first = robot.last_used_at
    assert first is not None
    _check("acme+ci", secret)
    robot.refresh_from_db()
    assert robot.last_used_at == first


def test_robot_holds_exactly_its_grants(acme, acme_repos, alice):
    robot, _ = _robot(acme.namespace, grants=[("app", "pull"), ("db", "delete")])
    user = robot.user
    assert permissions.allowed_actions(user, acme_repos["app"]) == {"pull"}
    assert permissions.allowed_actions(user, acme_repos["db"]) == {"pull", "push", "delete"}
    assert permissions.namespace_role(user, acme.namespace) is None
    assert not permissions.can_manage_organization(user, acme.namespace)
    # Nothing elsewhere, and no repository is created by a push without a namespace-wide grant.
    other = factories.RepositoryFactory(namespace=alice.namespace, name="x", is_private=True)
    assert permissions.allowed_actions(user, other) == set()
    assert permissions.repository_access(user, "acme/new").actions == set()
    assert not permissions.can_create(user, acme.namespace)
    visible = set(repository_list_visible(user=user).values_list("name", flat=True))
    assert visible == {"app", "db"}


def test_namespace_wide_grants(acme, acme_repos):
    pull, _ = _robot(acme.namespace, name="reader", grants=[(None, "pull")])
    push, _ = _robot(acme.namespace, name="writer", grants=[(None, "push"), ("db", "delete")])
    assert permissions.allowed_actions(pull.user, acme_repos["db"]) == {"pull"}
    assert permissions.repository_access(pull.user, "acme/new").actions == set()
    assert permissions.allowed_actions(push.user, acme_repos["app"]) == {"pull", "push"}
    assert permissions.allowed_actions(push.user, acme_repos["db"]) == {"pull", "push", "delete"}
    assert permissions.repository_access(push.user, "acme/new").actions == {"pull", "push"}
    assert set(repository_list_visible(user=pull.user).values_list("name", flat=True)) == {
        "app",
        "db",
    }


def test_membership_gives_a_robot_nothing(acme, acme_repos, alice):
    robot, _ = _robot(acme.namespace)
    with pytest.raises(ValidationError):
        membership_add(organization=acme, username="acme+ci", role="owner")
    with pytest.raises(ValidationError):
        collaborator_add(repository=acme_repos["app"], username="acme+ci", role="write")
    assert permissions.allowed_actions(robot.user, acme_repos["app"]) == set()


def test_user_robot_on_own_namespace(alice, private_repo):
    robot, _ = _robot(alice.namespace, grants=[("secret", "push")])
    assert robot.user.username == "alice+ci"
    assert permissions.allowed_actions(robot.user, private_repo) == {"pull", "push"}
    assert permissions.namespace_role(robot.user, alice.namespace) is None


def test_delete_removes_the_account(acme):
    robot, secret = _robot(acme.namespace)
    robot_delete(robot=robot, actor=None)
    assert _check("acme+ci", secret) is None
    assert not Robot.objects.exists()
    assert AuditEntry.objects.filter(action="robot.delete", target="acme+ci").count() == 1


def test_update_replaces_grants_and_audits_without_secret(acme, acme_repos):
    robot, secret = _robot(acme.namespace, grants=[("app", "pull")])
    robot_update(robot=robot, actor=None, permissions=[{"repository": "db", "level": "push"}])
    assert permissions.allowed_actions(robot.user, acme_repos["app"]) == set()
    assert permissions.allowed_actions(robot.user, acme_repos["db"]) == {"pull", "push"}
    entry = AuditEntry.objects.get(action="robot.update")
    assert entry.data["permissions"] == [{"repository": "db", "level": "push"}]
    for row in AuditEntry.objects.all():
        assert secret not in str(row.data) and secret not in row.target


def test_basic_header_decoding_is_unchanged_for_plus_names(acme, client):
    _, secret = _robot(acme.namespace)
    value = base64.b64encode(f"acme+ci:{secret}".encode()).decode()
    assert client.get("/v2/", HTTP_AUTHORIZATION=f"Basic {value}").status_code == 200


def test_a_robot_cannot_open_a_portal_session(client, acme):
    """Its secret works for docker login and the API, never for a session (which could star)."""
    _, secret = _robot(acme.namespace, name="web")
    response = client.post("/accounts/login/", {"username": "acme+web", "password": secret})
    assert response.status_code == 200
    assert response.context["form"].errors["__all__"]
    assert "_auth_user_id" not in client.session
