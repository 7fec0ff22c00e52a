"""The Retention section of the repository settings: add a policy (errors shown in the form),
preview what it would delete, run it, delete it; admins only."""

from __future__ import annotations

import pytest

from registry_api.models import RetentionPolicy, Tag
from tests.conftest import PASSWORD
from tests.registry_api.conftest import image_push

pytestmark = pytest.mark.django_db

SETTINGS = "/r/alice/app/-/settings/"


@pytest.fixture
def as_alice(client, alice):
    client.login(username="alice", password=PASSWORD)
    return client


def _rules(**rules) -> dict:
    return {"tag_pattern": "*", "schedule": "daily", "enabled": "on", **rules}


def test_add_preview_run_delete(client, as_alice, public_repo):
    for name in ("v1", "v2"):
        image_push(client, "alice/app", name, layer=name.encode())
    Tag.objects.filter(name="v1").update(
        pushed_at=Tag.objects.get(name="v2").pushed_at.replace(year=2020)
    )
    page = as_alice.get(SETTINGS).content.decode()
    assert "Retention" in page and "No retention policies." in page

    added = as_alice.post(f"{SETTINGS}retention/", _rules(keep_last="1"))
    assert added.status_code == 302
    policy = RetentionPolicy.objects.get(repository=public_repo)
    assert policy.created_by.username == "alice"

    preview = as_alice.post(f"{SETTINGS}retention/{policy.pk}/preview/")
    html = preview.content.decode()
    assert preview.status_code == 200
    assert "A run would delete 1 tag(s) and 0 manifest(s)" in html and "<code>v1</code>" in html
    assert Tag.objects.filter(repository=public_repo).count() == 2

    ran = as_alice.post(f"{SETTINGS}retention/{policy.pk}/run/", follow=True)
    assert "1 tag(s) and 0 manifest(s) deleted" in ran.content.decode()
    assert list(Tag.objects.values_list("name", flat=True)) == ["v2"]

    as_alice.post(f"{SETTINGS}retention/{policy.pk}/delete/")
    assert not RetentionPolicy.objects.exists()


def test_form_errors_are_shown(as_alice, public_repo):
    answer = as_alice.post(f"{SETTINGS}retention/", _rules(tag_pattern="a b"))
    html = answer.content.decode()
    assert answer.status_code == 200
    assert "Set at least one rule." in html and "Use tag characters" in html
    answer = as_alice.post(f"{SETTINGS}retention/", _rules(evict_not_pulled_days="3"))
    assert "Only proxy-cache repositories" in answer.content.decode()
    assert not RetentionPolicy.objects.exists()


def test_non_admins_get_404(client, public_repo, bob):
    policy = RetentionPolicy.objects.create(repository=public_repo, keep_last=1)
    client.login(username="bob", password=PASSWORD)
    assert client.post(f"{SETTINGS}retention/", _rules(keep_last="1")).status_code == 404
    assert client.post(f"{SETTINGS}retention/{policy.pk}/run/").status_code == 404
    assert RetentionPolicy.objects.count() == 1


def test_edit_a_policy_and_see_its_errors(as_alice, public_repo):
    policy = RetentionPolicy.objects.create(repository=public_repo, keep_last=3)
    prefix = f"policy-{policy.pk}-"
    fields = {prefix + key: value for key, value in _rules(keep_last="5").items()}
    assert as_alice.post(f"{SETTINGS}retention/{policy.pk}/", fields).status_code == 302
    policy.refresh_from_db()
    assert policy.keep_last == 5
    fields[prefix + "keep_last"] = ""
    answer = as_alice.post(f"{SETTINGS}retention/{policy.pk}/", fields)
    assert answer.status_code == 200 and "Set at least one rule." in answer.content.decode()
    policy.refresh_from_db()
    assert policy.keep_last == 5
