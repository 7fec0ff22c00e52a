"""Storage usage is exact and deduplicated (logical, stored, exclusive), its counters follow every
write, usage_recount finds and repairs drift, and namespace quotas refuse pushes that do not fit
while re-pushed layers are free."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from hub.models import AuditEntry, NamespaceQuota, Repository
from hub.services.repositories import repository_delete
from registry_api.models import Blob, Manifest, Tag
from registry_api.selectors.usage import (
    exclusive_bytes_of,
    namespace_usage,
    repository_usage,
    tag_exclusive_bytes,
)
from registry_api.services.gc import gc_run
from registry_api.services.manifests import manifest_delete
from registry_api.services.quotas import bytes_human, quota_set
from registry_api.services.usage import namespace_usage_read, repository_usage_read
from tests import factories
from tests.registry_api.conftest import bearer, blob_upload, image_push, push_access
from webhooks.models import Event

pytestmark = pytest.mark.django_db

CONFIG = len(b'{"architecture": "amd64"}')  # image_push gives every image this config
A, B, C = b"a" * 1000, b"b" * 20000, b"c" * 300000


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run what a commit runs (the counters' refresh) at the end of the block."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _repo(name):
    namespace, short = name.split("/")
    return Repository.objects.get(namespace__name=namespace, name=short)


def test_definitions_over_shared_layers_tags_repositories_and_namespaces(client, alice, bob):
    image_push(client, "alice/app", "v1", layer=A)
    image_push(client, "alice/app", "same", layer=A)  # a second tag on the same manifest
    image_push(client, "alice/app", "v2", layer=B)
    image_push(client, "alice/other", "v1", layer=A)
    app = _repo("alice/app")

    usage = repository_usage(app)
    assert usage.logical_bytes == 2 * CONFIG + len(A) + len(B)  # per distinct manifest
    assert usage.stored_bytes == CONFIG + len(A) + len(B)  # each blob once
    assert usage.exclusive_bytes == len(B)  # config and A are also held by alice/other

    alice_ns = alice.namespace
    assert namespace_usage(alice_ns).stored_bytes == CONFIG + len(A) + len(B)
    assert namespace_usage(alice_ns).logical_bytes == 3 * CONFIG + 2 * len(A) + len(B)
    assert namespace_usage(alice_ns).exclusive_bytes == CONFIG + len(A) + len(B)

    image_push(client, "bob/tools", "v1", layer=B)  # another namespace shares B and the config
    assert namespace_usage(alice_ns).exclusive_bytes == len(A)
    assert repository_usage(app).exclusive_bytes == 0
    # Tags: v2's manifest is alone in using nothing exclusive now; "same" shares v1's manifest.
    assert tag_exclusive_bytes(app, "v2") == 0
    assert tag_exclusive_bytes(app, "same") == 0
    image_push(client, "alice/app", "v3", layer=C)
    assert tag_exclusive_bytes(app, "v3") == len(C)
    assert tag_exclusive_bytes(app, "missing") == 0
    v3 = Manifest.objects.get(tags__repository=app, tags__name="v3")
    v1 = Manifest.objects.get(tags__repository=app, tags__name="v1")
    assert exclusive_bytes_of([v3.pk]) == len(C)
    assert exclusive_bytes_of([v1.pk, v3.pk]) == len(C)  # A is also alice/other's
    assert exclusive_bytes_of([]) == 0


def test_a_live_tombstone_elsewhere_keeps_a_blob_out_of_exclusive_bytes(client, alice):
    image_push(client, "alice/app", "v1", layer=A)
    digest = image_push(client, "alice/old", "v1", layer=A)
    old = _repo("alice/old")
    # alice/old forgets the layer except through the tombstone of its deleted manifest.
    manifest_delete(manifest=Manifest.objects.get(repository=old, digest=digest), actor=alice)
    old.blob_links.all().delete()
    assert repository_usage(_repo("alice/app")).exclusive_bytes == 0
    assert repository_usage(old).stored_bytes == CONFIG + len(A)


def test_exclusive_bytes_are_what_gc_frees_after_the_repository_is_deleted(client, alice, settings):
    settings.GC_GRACE_SECONDS = 0
    image_push(client, "alice/app", "v1", layer=A)
    image_push(client, "alice/app", "v2", layer=B)
    image_push(client, "alice/app", "v3", layer=C)
    image_push(client, "alice/other", "v1", layer=B)
    app = _repo("alice/app")
    blob_upload(
        client,
        "alice/app",
        b"uploaded, never referenced",
        bearer("alice", push_access("alice/app")),
    )
    exclusive = repository_usage(app).exclusive_bytes
    assert exclusive == len(A) + len(C) + len(b"uploaded, never referenced")

    repository_delete(repository=app, actor=alice)
    run = gc_run(trigger="command", grace_seconds=0)  # the online collection, no grace
    assert run.bytes_freed == exclusive and run.blobs_freed == 3


def test_counters_follow_pushes_deletes_and_repository_deletes(client, alice, on_commit):
    with on_commit():
        image_push(client, "alice/app", "v1", layer=A)
        image_push(client, "alice/app", "v2", layer=B)
    app = _repo("alice/app")
    assert (app.logical_bytes, app.stored_bytes) == (
        2 * CONFIG + len(A) + len(B),
        CONFIG + len(A) + len(B),
    )
    assert app.usage_updated_at is not None
    assert repository_usage_read(app) == repository_usage(app)

    with on_commit():
        manifest_delete(manifest=Tag.objects.get(repository=app, name="v2").manifest, actor=alice)
    app.refresh_from_db()
    assert app.logical_bytes == CONFIG + len(A)
    # The tombstone (restorable) and the upload link still hold B.
    assert app.stored_bytes == CONFIG + len(A) + len(B)
    assert (app.logical_bytes, app.stored_bytes) == (
        repository_usage(app).logical_bytes,
        repository_usage(app).stored_bytes,
    )

    with on_commit():
        image_push(client, "alice/other", "v1", layer=A)
    assert namespace_usage_read(alice.namespace) == namespace_usage(alice.namespace)


def test_exclusive_bytes_are_cached_until_any_repository_changes(client, alice, on_commit):
    with on_commit():
        image_push(client, "alice/app", "v1", layer=A)
    app = _repo("alice/app")
    assert repository_usage_read(app).exclusive_bytes == CONFIG + len(A)
    with on_commit():  # another repository now shares the layer: app's exclusive bytes fall
        image_push(client, "alice/other", "v1", layer=A)
    assert repository_usage_read(app).exclusive_bytes == 0


def test_usage_recount_reports_and_repairs_drift(client, alice, on_commit):
    with on_commit():
        image_push(client, "alice/app", "v1", layer=A)
        image_push(client, "alice/other", "v1", layer=B)
    Repository.objects.filter(name="app").update(logical_bytes=5, stored_bytes=7)

    out = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("usage_recount", stdout=out)
    assert exited.value.code == 1
    assert (
        f"alice/app: logical 5 -> {CONFIG + len(A)}, stored 7 -> {CONFIG + len(A)}"
        in out.getvalue()
    )
    assert "checked 2 repositories, 1 drifted" in out.getvalue()
    assert _repo("alice/app").stored_bytes == 7  # a report changes nothing

    out = io.StringIO()
    call_command("usage_recount", "--repair", stdout=out)
    assert "1 repaired" in out.getvalue()
    assert _repo("alice/app").stored_bytes == CONFIG + len(A)
    out = io.StringIO()
    call_command("usage_recount", stdout=out)
    assert "0 drifted" in out.getvalue()


def _upload_answer(client, name, data):
    headers = bearer(name.split("/")[0], push_access(name))
    start = client.post(f"/v2/{name}/blobs/uploads/", **headers)
    from registry_api.digests import digest_bytes

    return client.put(
        f"{start['Location']}?digest={digest_bytes(data)}",
        data=data,
        content_type="application/octet-stream",
        **headers,
    )


def test_a_blob_over_quota_is_denied_with_usage_and_limit_and_nothing_is_stored(client, alice):
    quota_set(namespace=alice.namespace, limit_bytes=50000, actor=None)
    image_push(client, "alice/app", "v1", layer=B)  # 20 KB of 50 KB
    answer = _upload_answer(client, "alice/app", C)
    assert answer.status_code == 403
    error = json.loads(answer.content)["errors"][0]
    used = CONFIG + len(B)
    assert error["code"] == "DENIED"
    assert error["message"] == (
        f"quota exceeded for namespace alice: {bytes_human(used)} used + "
        f"{bytes_human(len(C))} new > {bytes_human(50000)} limit"
    )
    assert error["detail"] == {
        "namespace": "alice", "used_bytes": used, "new_bytes": len(C), "limit_bytes": 50000
    }  # fmt: skip
    assert not Blob.objects.filter(size=len(C)).exists()
    assert bytes_human(1288490189) == "1.2 GiB" and bytes_human(300 * 1024**2) == "300 MiB"


def test_repushing_layers_the_namespace_holds_is_free(client, alice):
    image_push(client, "alice/app", "v1", layer=C)
    used = CONFIG + len(C)
    quota_set(namespace=alice.namespace, limit_bytes=used, actor=None)  # exactly full
    image_push(client, "alice/app", "v2", layer=C)  # same layer, another tag
    image_push(client, "alice/copy", "v1", layer=C)  # another repository of the namespace
    assert namespace_usage(alice.namespace).stored_bytes == used
    assert _upload_answer(client, "alice/app", b"one byte too many").status_code == 403


def test_a_mount_from_another_namespace_counts_against_the_quota(client, alice, bob):
    image_push(client, "bob/tools", "v1", layer=C)
    factories.RepositoryFactory(namespace=alice.namespace, name="app")
    quota_set(namespace=alice.namespace, limit_bytes=1000, actor=None)
    from registry_api.digests import digest_bytes

    access = push_access("alice/app") + [
        {"type": "repository", "name": "bob/tools", "actions": ["pull"]}
    ]
    answer = client.post(
        f"/v2/alice/app/blobs/uploads/?mount={digest_bytes(C)}&from=bob/tools",
        **bearer("alice", access),
    )
    assert answer.status_code == 403
    assert json.loads(answer.content)["errors"][0]["code"] == "DENIED"


def test_the_default_quota_applies_without_a_row_and_zero_is_unlimited(client, alice, settings):
    settings.DEFAULT_NAMESPACE_QUOTA_BYTES = 10000
    assert _upload_answer(client, "alice/app", B).status_code == 403
    quota_set(namespace=alice.namespace, limit_bytes=0, actor=alice)
    assert _upload_answer(client, "alice/app", B).status_code == 201
    entry = AuditEntry.objects.get(action="quota.set")
    assert (entry.target, entry.actor_name, entry.data["limit_bytes"]) == ("alice", "alice", 0)


def test_warnings_at_80_and_100_percent_are_published_once_per_crossing(client, alice, on_commit):
    quota_set(namespace=alice.namespace, limit_bytes=20000, actor=None)
    with on_commit():
        image_push(client, "alice/app", "v1", layer=A)  # 5 %
    assert not Event.objects.filter(action__startswith="quota").exists()
    with on_commit():
        image_push(client, "alice/app", "v2", layer=B[:16000])  # 85 %
    with on_commit():
        image_push(client, "alice/app", "v3", layer=b"x" * 100)  # still above: no second warning
    events = list(Event.objects.filter(action__startswith="quota").values_list("action", flat=True))
    assert events == ["quota_warning"]
    warning = Event.objects.get(action="quota_warning")
    assert warning.data["namespace"] == "alice" and warning.data["limit_bytes"] == 20000
    assert 80 <= warning.data["percent"] < 100

    used = namespace_usage(alice.namespace).stored_bytes
    with on_commit():  # an administrator lowers the limit to the usage: 100 %
        quota_set(namespace=alice.namespace, limit_bytes=used, actor=None)
    with on_commit():
        image_push(client, "alice/app", "v4", layer=A)  # a tag on stored content: free, no event
    assert Event.objects.filter(action="quota_exceeded").count() == 1
    assert Event.objects.get(action="quota_exceeded").data["used_bytes"] == used

    with on_commit():  # usage falls under 80 %, then crosses again: a new warning
        quota_set(namespace=alice.namespace, limit_bytes=100 * used, actor=None)
    assert NamespaceQuota.objects.get(namespace=alice.namespace).warned_percent == 0
    with on_commit():
        quota_set(namespace=alice.namespace, limit_bytes=used + 1, actor=None)
    assert Event.objects.filter(action="quota_warning").count() == 2


def test_each_figure_is_a_fixed_number_of_queries_whatever_the_size(
    client, alice, django_assert_num_queries
):
    image_push(client, "alice/app", "v1", layer=A)
    app = _repo("alice/app")
    with django_assert_num_queries(3):
        small = repository_usage(app)
    for number in range(6):
        image_push(client, "alice/app", f"many{number}", layer=bytes([number]) * 500)
    with django_assert_num_queries(3):
        assert repository_usage(app).stored_bytes == small.stored_bytes + 6 * 500
    with django_assert_num_queries(3):
        namespace_usage(alice.namespace)
    with django_assert_num_queries(7):  # the manifest set deleting the tag takes, one aggregate
        tag_exclusive_bytes(app, "many0")


def _manifest(repository, name, blobs=(), children=()):
    manifest = Manifest.objects.create(
        repository=repository, digest=f"sha256:{name:0>64}", media_type="x", payload=b"{}", size=2
    )
    manifest.blobs.set(blobs)
    manifest.children.set(children)
    return manifest


def test_a_tag_on_an_index_frees_the_children_no_other_index_or_tag_keeps(public_repo):
    x, y, z = (
        Blob.objects.create(digest=f"sha256:{n:0>64}", size=size)
        for n, size in (("a1", 100), ("a2", 2000), ("a3", 30000))
    )
    amd64, arm64 = _manifest(public_repo, "c1", [x]), _manifest(public_repo, "c2", [y])
    multi = _manifest(public_repo, "i1", children=[amd64, arm64])
    _manifest(public_repo, "i2", children=[arm64])  # another index still needs arm64
    Tag.objects.create(repository=public_repo, name="multi", manifest=multi)
    assert tag_exclusive_bytes(public_repo, "multi") == 100
    Tag.objects.create(repository=public_repo, name="same", manifest=multi)
    assert tag_exclusive_bytes(public_repo, "multi") == 0  # the other tag keeps the index
    single = _manifest(public_repo, "m1", [y, z])
    Tag.objects.create(repository=public_repo, name="single", manifest=single)
    assert tag_exclusive_bytes(public_repo, "single") == 30000  # y is arm64's too


@pytest.mark.django_db(transaction=True)
def test_a_refused_push_announces_quota_exceeded_once(client, alice):
    # Committed transactions, as in production: the refusal's event is not rolled back.
    quota_set(namespace=alice.namespace, limit_bytes=1000, actor=None)
    factories.RepositoryFactory(namespace=alice.namespace, name="app")
    for _attempt in range(2):
        assert _upload_answer(client, "alice/app", B).status_code == 403
    exceeded = Event.objects.get(action="quota_exceeded")
    assert exceeded.data["limit_bytes"] == 1000 and exceeded.repository.name == "app"


def test_quota_events_reach_hooks_subscribed_to_quota_in_both_formats(client, alice, on_commit):
    from webhooks.models import Delivery, Webhook
    from webhooks.payloads import cloudevents_payload, dockerhub_payload

    repository = factories.RepositoryFactory(namespace=alice.namespace, name="app")
    for format_name in ("dockerhub", "cloudevents"):
        Webhook.objects.create(
            repository=repository, name=format_name, url="http://127.0.0.1:9/", events=["quota"],
            payload_format=format_name,
        )  # fmt: skip
    Webhook.objects.create(repository=repository, name="push", url="http://127.0.0.1:9/")
    quota_set(namespace=alice.namespace, limit_bytes=CONFIG + len(A), actor=None)
    with on_commit():
        image_push(client, "alice/app", "v1", layer=A)  # exactly 100 %
    deliveries = Delivery.objects.filter(event__action="quota_exceeded").select_related("webhook")
    assert sorted(d.webhook.name for d in deliveries) == ["cloudevents", "dockerhub"]
    by_name = {d.webhook.name: d for d in deliveries}
    quota = {"namespace": "alice", "used_bytes": CONFIG + len(A), "limit_bytes": CONFIG + len(A)}
    hub_body = dockerhub_payload(by_name["dockerhub"])
    assert hub_body["action"] == "quota_exceeded"
    assert hub_body["quota"] == {**quota, "percent": 100.0}
    cloud = cloudevents_payload(by_name["cloudevents"])
    assert cloud["type"].endswith("quota_exceeded") and cloud["data"]["used_bytes"] == CONFIG + len(
        A
    )
