"""The audit log: each action is recorded once, by the service that does it, with the right actor
and target, through the real endpoints; entries are forwarded as JSON lines after commit (file,
real UDP syslog), pruned past retention, and never hold a secret."""

from __future__ import annotations

import json
import logging
import socket
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from hub.audit import audit_prune, audit_record
from hub.audit_forwarding import syslog_handler
from hub.models import AuditEntry
from tests.conftest import PASSWORD, basic_auth
from tests.registry_api.conftest import bearer, image_push, push_access

pytestmark = pytest.mark.django_db
API = "/api/v1"


def entries(action: str, **filters):
    return list(AuditEntry.objects.filter(action=action, **filters))


def one(action: str, **filters) -> AuditEntry:
    found = entries(action, **filters)
    assert len(found) == 1, [str(entry) for entry in AuditEntry.objects.all()]
    return found[0]


def api_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic_auth(user.username))
    return client


def test_push_and_first_push_create_are_recorded_once(alice):
    digest = image_push(Client(), "alice/fresh", "v1")
    push = one("push")
    assert (push.actor_name, push.actor_kind, push.target) == ("alice", "user", "alice/fresh:v1")
    assert push.data == {"tag": "v1", "digest": digest}
    assert push.namespace == "alice"
    assert push.client_address == "127.0.0.1"
    assert one("repository.create").target == "alice/fresh"


def test_manifest_delete_over_v2_is_recorded_once(alice):
    client = Client()
    digest = image_push(client, "alice/app", "v1")
    grant = [{"type": "repository", "name": "alice/app", "actions": ["pull", "delete"]}]
    response = client.delete(f"/v2/alice/app/manifests/{digest}", **bearer("alice", grant))
    assert response.status_code == 202, response.content
    entry = one("manifest.delete")
    assert entry.actor_name == "alice"
    assert entry.target == f"alice/app@{digest}"
    assert entry.data["tags"] == ["v1"]


def test_tag_delete_over_the_api(alice):
    image_push(Client(), "alice/app", "v1")
    response = api_for(alice).delete(f"{API}/repositories/alice/app/tags/v1/")
    assert response.status_code == 204, response.content
    entry = one("tag.delete")
    assert (entry.actor_name, entry.target) == ("alice", "alice/app:v1")


def test_pulls_follow_audit_pulls(alice, settings):
    client = Client()
    image_push(client, "alice/app", "v1")
    headers = bearer("alice", push_access("alice/app"))
    settings.AUDIT_PULLS = "none"
    assert client.get("/v2/alice/app/manifests/v1", **headers).status_code == 200
    assert entries("pull") == []
    settings.AUDIT_PULLS = "all"
    assert client.get("/v2/alice/app/manifests/v1", **headers).status_code == 200
    assert client.head("/v2/alice/app/manifests/v1", **headers).status_code == 200
    assert one("pull").target == "alice/app:v1"


def test_token_service_sign_in_and_failure(alice):
    client = Client()
    url = f"/auth/token?service={settings.REGISTRY_SERVICE}&scope=repository:alice/app:pull"
    assert client.get(url, HTTP_AUTHORIZATION=basic_auth("alice")).status_code == 200
    ok = one("login", result="ok")
    assert (ok.actor_name, ok.data["via"]) == ("alice", "token")
    bad = client.get(url, HTTP_AUTHORIZATION=basic_auth("alice", "wrong"), HTTP_USER_AGENT="ua/1")
    assert bad.status_code == 401
    denied = one("login", result="denied")
    assert (denied.actor_id, denied.actor_name, denied.actor_kind) == (None, "alice", "anonymous")
    assert (denied.client_address, denied.user_agent) == ("127.0.0.1", "ua/1")


def test_portal_sign_in_and_failure(alice):
    client = Client()
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert one("login", result="ok").data == {"via": "web"}
    client = Client()
    response = client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert one("login", result="denied").actor_name == "alice"


def test_rest_basic_records_failures_not_every_success(alice):
    assert api_for(alice).get(f"{API}/users/me/").status_code == 200
    assert entries("login") == []
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic_auth("alice", "guess"))
    assert client.get(f"{API}/users/me/").status_code == 401
    assert one("login", result="denied").target == "alice"


def test_access_token_create_and_revoke(alice):
    client = api_for(alice)
    created = client.post(
        f"{API}/access-tokens/", {"label": "ci", "scopes": ["repo:read"]}, format="json"
    )
    assert created.status_code == 201, created.content
    entry = one("token.create")
    assert entry.actor_name == "alice" and entry.target.startswith("alice#")
    assert client.delete(f"{API}/access-tokens/{created.data['id']}/").status_code == 204
    assert one("token.revoke", actor_name="alice").target == entry.target


def test_repository_visibility_and_delete(alice, public_repo):
    client = api_for(alice)
    response = client.patch(f"{API}/repositories/alice/app/", {"is_private": True}, format="json")
    assert response.status_code == 200, response.content
    entry = one("repository.visibility")
    assert (entry.actor_name, entry.data) == ("alice", {"is_private": True})
    client.patch(f"{API}/repositories/alice/app/", {"description": "x"}, format="json")
    assert len(entries("repository.visibility")) == 1  # no visibility change, no entry
    assert client.delete(f"{API}/repositories/alice/app/").status_code == 204
    assert one("repository.delete").target == "alice/app"


def test_collaborator_and_member_changes(alice, bob, charlie, public_repo, acme):
    client = api_for(alice)
    response = client.post(
        f"{API}/repositories/alice/app/collaborators/",
        {"username": "bob", "role": "read"},
        format="json",
    )
    assert response.status_code in (200, 201), response.content
    entry = one("collaborator.add")
    assert (entry.actor_name, entry.target, entry.namespace) == ("alice", "alice/app/@bob", "alice")
    response = client.post(
        f"{API}/orgs/acme/members/", {"username": "charlie", "role": "member"}, format="json"
    )
    assert response.status_code == 201, response.content
    entry = one("member.add")
    assert (entry.actor_name, entry.target, entry.namespace) == ("alice", "acme/@charlie", "acme")


def test_webhook_changes_never_store_the_secret(alice, public_repo):
    client = api_for(alice)
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    response = client.post(
        f"{API}/repositories/alice/app/webhooks/",
        {"name": "ci", "url": "http://93.184.216.34/", "secret": secret},
        format="json",
    )
    assert response.status_code == 201, response.content
    entry = one("webhook.create")
    assert (entry.actor_name, entry.target) == ("alice", "alice/app#ci")
    other = "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"
    response = client.patch(
        f"{API}/repositories/alice/app/webhooks/{response.data['id']}/",
        {"secret": other},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert one("webhook.update").data == {"fields": ["secret"]}
    dump = json.dumps(list(AuditEntry.objects.values()), default=str)
    assert secret not in dump and other not in dump
    assert secret.removeprefix("whsec_") not in dump


def test_no_secret_is_ever_stored(alice, public_repo):
    """Sign-ins (right and wrong), token creation and a caller's data never keep a secret."""
    client = Client()
    client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    client.post("/accounts/login/", {"username": "alice", "password": "wrong-pass-123"})
    created = api_for(alice).post(
        f"{API}/access-tokens/", {"label": "x", "scopes": ["repo:read"]}, format="json"
    )
    token = created.data["token"]
    audit_record(action="test.data", data={"password": "p@ss-9", "api_token": token, "n": 1})
    dump = json.dumps(list(AuditEntry.objects.values()), default=str)
    for secret in (PASSWORD, "wrong-pass-123", token, "p@ss-9"):
        assert secret not in dump
    assert one("test.data").data == {"n": 1}


def test_admin_site_actions_are_recorded(alice, charlie):
    alice.is_staff = alice.is_superuser = True
    alice.save()
    client = Client()
    client.force_login(alice)
    AuditEntry.objects.all().delete()
    response = client.post(f"/admin/hub/user/{charlie.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302, response.content[:500]
    entry = one("admin.delete")
    assert entry.actor_name == "alice" and entry.target == "user:charlie"
    assert entry.namespace == ""


def test_robot_actor_kind(db):
    from tests.factories import UserFactory

    robot = UserFactory(username="acme+ci")
    assert audit_record(action="test.robot", actor=robot).actor_kind == "robot"
    assert audit_record(action="test.system", system=True).actor_kind == "system"


def _file_logger(path):
    logger = logging.getLogger("dockyard.audit")
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    return logger, handler


def test_forwarded_to_a_file_only_after_commit(tmp_path, alice, django_capture_on_commit_callbacks):
    path = tmp_path / "audit.jsonl"
    logger, handler = _file_logger(path)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            entry = audit_record(action="test.kept", actor=alice, target="alice/app")
        with (
            django_capture_on_commit_callbacks(execute=True),
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            audit_record(action="test.rolled-back", actor=alice)
            raise RuntimeError
    finally:
        logger.removeHandler(handler)
        handler.close()
    lines = path.read_text().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert (record["id"], record["action"], record["actor"]) == (entry.pk, "test.kept", "alice")


def test_forwarded_to_a_real_udp_syslog(alice, django_capture_on_commit_callbacks):
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    server.settimeout(5)
    port = server.getsockname()[1]
    handler = syslog_handler(f"udp://127.0.0.1:{port}")
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("dockyard.audit")
    logger.addHandler(handler)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            audit_record(action="test.syslog", actor=alice, target="alice/app")
        datagram = server.recv(65536).decode()
    finally:
        logger.removeHandler(handler)
        handler.close()
        server.close()
    assert datagram.startswith("<14>dockyard-audit: ")  # facility user, level info
    body = json.loads(datagram.split(": ", 1)[1].rstrip("\x00"))
    assert (body["action"], body["target"]) == ("test.syslog", "alice/app")


def test_bad_syslog_target_is_refused():
    with pytest.raises(ValueError, match="AUDIT_LOG_SYSLOG"):
        syslog_handler("http://example.com")


def test_retention_prune_and_command(alice, settings):
    old = audit_record(action="test.old", actor=alice)
    AuditEntry.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=91))
    older = audit_record(action="test.older", actor=alice)
    AuditEntry.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=400))
    recent = audit_record(action="test.recent", actor=alice)
    settings.AUDIT_LOG_RETENTION_DAYS = 0
    assert audit_prune() == 0
    settings.AUDIT_LOG_RETENTION_DAYS = 90
    assert audit_prune(batch=1) == 2
    assert list(AuditEntry.objects.values_list("pk", flat=True)) == [recent.pk]
    AuditEntry.objects.filter(pk=recent.pk).update(created_at=timezone.now() - timedelta(days=10))
    call_command("audit_prune", "--days", "5")
    assert not AuditEntry.objects.exists()


def test_prune_task_is_scheduled():
    from hub.tasks import audit_prune as task

    assert settings.CELERY_BEAT_SCHEDULE["audit-prune"]["task"] == task.name


def test_portal_pages_show_only_what_the_viewer_may_see(alice, bob, dave, acme, private_repo):
    audit_record(action="push", actor=alice, target="alice/secret:v1")
    audit_record(action="push", actor=alice, target="acme/app:v1")
    audit_record(action="push", actor=bob, target="bob/own:v1")
    client = Client()
    client.force_login(bob)
    page = client.get("/settings/security-log/").content.decode()
    assert "bob/own:v1" in page and "alice/secret" not in page and "acme/app" not in page
    client.force_login(alice)
    page = client.get("/settings/security-log/").content.decode()
    assert "alice/secret:v1" in page and "bob/own" not in page
    page = client.get("/orgs/acme/audit-log/").content.decode()
    assert "acme/app:v1" in page and "alice/secret" not in page
    client.force_login(dave)  # a member, not an owner
    assert client.get("/orgs/acme/audit-log/").status_code == 403
    assert Client().get("/settings/security-log/").status_code == 302


def test_an_address_that_is_none_is_stored_as_none(alice):
    client = Client(REMOTE_ADDR="")
    client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    entry = one("login")
    assert entry.client_address is None and entry.actor_name == "alice"


def test_a_robots_push_is_recorded_once_as_the_robot(alice):
    import base64

    from hub.models import Namespace
    from hub.services.robots import robot_create

    robot, secret = robot_create(
        namespace=Namespace.objects.get(name="alice"),
        name="ci",
        created_by=alice,
        permissions=[{"level": "push"}],
    )
    AuditEntry.objects.all().delete()
    token = base64.b64encode(f"alice+ci:{secret}".encode()).decode()
    headers = {"HTTP_AUTHORIZATION": f"Basic {token}", "REMOTE_ADDR": "192.0.2.7"}
    image_push(Client(), "alice/built", "v1", layer=b"robot layer", headers=headers)
    push = one("push")
    assert (push.actor_name, push.actor_kind) == ("alice+ci", "robot")
    assert push.target == "alice/built:v1"
    assert push.client_address == "192.0.2.7"
    assert secret not in json.dumps(push.data)
