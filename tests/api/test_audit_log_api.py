"""GET /api/v1/audit-log/ (and /orgs/{org}/audit-log/): who sees which entries, filters,
pagination, and the streamed CSV / JSON exports."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from hub.audit import audit_record
from hub.models import AuditEntry
from tests.api.conftest import API

pytestmark = pytest.mark.django_db


@pytest.fixture
def log(alice, bob, charlie, dave, acme, private_repo):
    """alice acts on her private repository and on acme; bob on alice's private repository (as
    collaborator); charlie on his own namespace; the system runs GC."""
    AuditEntry.objects.all().delete()
    return {
        "alice_private": audit_record(action="push", actor=alice, target="alice/secret:v1"),
        "acme_push": audit_record(action="push", actor=alice, target="acme/app:v1"),
        "dave_acme": audit_record(action="tag.delete", actor=dave, target="acme/app:old"),
        "bob_on_alice": audit_record(action="push", actor=bob, target="alice/secret:v2"),
        "charlie_own": audit_record(action="repository.create", actor=charlie, target="charlie/x"),
        "gc": audit_record(action="gc.run", system=True, namespace=""),
    }


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_anonymous_is_refused(api, log):
    assert api.get(f"{API}/audit-log/").status_code == 401


def test_admin_sees_everything(as_user, alice, log):
    alice.is_superuser = True
    alice.save()
    assert ids(as_user(alice).get(f"{API}/audit-log/?page_size=100")) == {
        entry.pk for entry in log.values()
    }


def test_users_see_their_own_account_only(as_user, bob, charlie, log):
    # bob: what he did (even on alice's repository); nothing else of alice's private one.
    assert ids(as_user(bob).get(f"{API}/audit-log/")) == {log["bob_on_alice"].pk}
    assert ids(as_user(charlie).get(f"{API}/audit-log/")) == {log["charlie_own"].pk}


def test_user_sees_actions_on_their_namespace(as_user, alice, log):
    seen = ids(as_user(alice).get(f"{API}/audit-log/"))
    assert seen == {log["alice_private"].pk, log["acme_push"].pk, log["bob_on_alice"].pk}


def test_org_owner_sees_the_organization_and_members_do_not(as_user, alice, dave, charlie, log):
    url = f"{API}/orgs/acme/audit-log/"
    assert ids(as_user(alice).get(url)) == {log["acme_push"].pk, log["dave_acme"].pk}
    assert as_user(dave).get(url).status_code == 403
    assert as_user(charlie).get(url).status_code == 403
    assert as_user(charlie).get(f"{API}/orgs/acme/audit-log/export/").status_code == 403
    assert as_user(alice).get(f"{API}/orgs/nope/audit-log/").status_code == 404


def test_filters(as_user, alice, log):
    alice.is_superuser = True
    alice.save()
    client = as_user(alice)
    assert ids(client.get(f"{API}/audit-log/?actor=bob")) == {log["bob_on_alice"].pk}
    assert ids(client.get(f"{API}/audit-log/?action=gc.run")) == {log["gc"].pk}
    assert ids(client.get(f"{API}/audit-log/?target=acme/")) == {
        log["acme_push"].pk,
        log["dave_acme"].pk,
    }
    assert ids(client.get(f"{API}/audit-log/?actor_kind=system")) == {log["gc"].pk}
    AuditEntry.objects.filter(pk=log["gc"].pk).update(created_at=timezone.now() - timedelta(days=3))
    since = (timezone.now() - timedelta(days=1)).isoformat()
    response = client.get(f"{API}/audit-log/", {"since": since, "page_size": 100})
    assert log["gc"].pk not in ids(response) and len(ids(response)) == 5
    until = (timezone.now() - timedelta(days=2)).isoformat()
    assert ids(client.get(f"{API}/audit-log/", {"until": until})) == {log["gc"].pk}


def test_bad_filters_are_validation_errors(as_user, alice, log):
    client = as_user(alice)
    response = client.get(f"{API}/audit-log/?since=yesterday")
    assert response.status_code == 400 and "since" in response.json()
    response = client.get(f"{API}/audit-log/?result=maybe")
    assert response.status_code == 400 and "result" in response.json()
    response = client.get(
        f"{API}/audit-log/", {"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}
    )
    assert response.status_code == 400 and "until" in response.json()


def test_pagination(as_user, alice, log):
    alice.is_superuser = True
    alice.save()
    client = as_user(alice)
    first = client.get(f"{API}/audit-log/?page_size=4").json()
    assert first["count"] == 6 and len(first["results"]) == 4 and first["next"]
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 2 and second["next"] is None
    newest_first = [row["id"] for row in first["results"] + second["results"]]
    assert newest_first == sorted(newest_first, reverse=True)
    row = first["results"][0]
    assert set(row) >= {"time", "actor", "actor_kind", "action", "target", "result"}
    assert {"request_id", "client_address", "user_agent"} <= set(row)


def test_csv_export_is_streamed(as_user, alice, log):
    response = as_user(alice).get(f"{API}/orgs/acme/audit-log/export/?format=csv")
    assert response.status_code == 200
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {row["id"] for row in rows} == {str(log["acme_push"].pk), str(log["dave_acme"].pk)}
    assert {row["actor"] for row in rows} == {"alice", "dave"}


def test_csv_export_neutralises_formulas(as_user, alice, log):
    audit_record(action="login", actor_name="=cmd|' /C calc'!A0", target="alice", result="denied")
    response = as_user(alice).get(f"{API}/audit-log/export/?format=csv&action=login")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0]["actor"].startswith("'=")


def test_json_export_with_filters(as_user, bob, log):
    response = as_user(bob).get(f"{API}/audit-log/export/?format=json&action=push")
    assert response.status_code == 200 and response.streaming
    body = json.loads(b"".join(response.streaming_content))
    assert [row["id"] for row in body] == [log["bob_on_alice"].pk]
    assert body[0]["target"] == "alice/secret:v2"
    bad = as_user(bob).get(f"{API}/audit-log/export/?format=json&until=soon")
    assert bad.status_code == 400
