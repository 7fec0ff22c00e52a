"""Retention policies: what a plan lists, that the run deletes exactly that through the services,
that indexes and referrers are kept as units, proxy-cache eviction, the schedule."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from hub.models import AuditEntry
from registry_api.digests import digest_bytes
from registry_api.manifests import OCI_INDEX
from registry_api.models import Manifest, ManifestTombstone, RetentionPolicy, Tag, TagEvent
from registry_api.services.retention import retention_plan, retention_run, retention_run_due
from registry_api.services.retention_policies import retention_policy_create
from registry_api.services.tags import tag_delete
from tests import factories
from tests.registry_api.conftest import bearer, image_push, push_access
from tests.registry_api.test_manifests import _multi_arch, image_body, manifest_put
from tests.registry_api.test_referrers import referrer_push

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def _policy(alice, **rules) -> RetentionPolicy:
    rules.setdefault("repository", factories_repo(alice))
    return retention_policy_create(actor=alice, **rules)


def factories_repo(alice):
    return alice.namespace.repositories.get(name="app")


def _age(repository, name: str, days: float, *, pulled_days: float | None = None) -> None:
    """Make tag `name` (and its manifest) pushed `days` ago, pulled `pulled_days` ago."""
    now = timezone.now()
    tag = Tag.objects.get(repository=repository, name=name)
    pulled = None if pulled_days is None else now - pulled_days * DAY
    Tag.objects.filter(pk=tag.pk).update(pushed_at=now - days * DAY, last_pulled_at=pulled)
    Manifest.objects.filter(pk=tag.manifest_id).update(created_at=now - days * DAY)


def _push_series(client, repository, names: list[str], *, start_days: int = 50) -> dict:
    """Push one image per name, oldest first (a day apart); return name → digest."""
    digests = {}
    for offset, name in enumerate(names):
        digests[name] = image_push(client, repository.full_name, name, layer=name.encode())
        _age(repository, name, start_days - offset)
    return digests


def _tags(plan) -> list[str]:
    return sorted(tag.name for tag in plan.tags)


def _remaining(repository) -> list[str]:
    return sorted(Tag.objects.filter(repository=repository).values_list("name", flat=True))


def test_keep_last_per_pattern_deletes_older_matching_tags_only(client, public_repo, alice):
    _push_series(client, public_repo, ["v1", "v2", "v3", "v4", "dev-1", "dev-2"])
    policy = _policy(alice, tag_pattern="v*", keep_last=2)
    assert _tags(retention_plan(policy)) == ["v1", "v2"]
    result = retention_run(policy, dry_run=False, actor=alice)
    assert sorted(tag.name for tag in result.tags) == ["v1", "v2"]
    assert _remaining(public_repo) == ["dev-1", "dev-2", "v3", "v4"]
    events = TagEvent.objects.filter(repository=public_repo, action="retention")
    assert sorted(events.values_list("tag", flat=True)) == ["v1", "v2"]
    # A tag delete keeps the manifests: no untagged rule was set.
    assert Manifest.objects.filter(repository=public_repo).count() == 6


def test_keep_pulled_within_counts_a_never_pulled_tag_from_its_push(client, public_repo, alice):
    for name in ("recent", "stale", "never-old", "never-new"):
        image_push(client, "alice/app", name, layer=name.encode())
    _age(public_repo, "recent", 90, pulled_days=3)
    _age(public_repo, "stale", 90, pulled_days=40)
    _age(public_repo, "never-old", 40)
    _age(public_repo, "never-new", 2)
    policy = _policy(alice, keep_pulled_within_days=30)
    assert _tags(retention_plan(policy)) == ["never-old", "stale"]


def test_keep_rules_combine_a_tag_goes_only_when_every_rule_lets_it(client, public_repo, alice):
    _push_series(client, public_repo, ["a", "b", "c"])
    _age(public_repo, "a", 50, pulled_days=1)  # oldest, but pulled yesterday
    policy = _policy(alice, keep_last=1, keep_pulled_within_days=7)
    assert _tags(retention_plan(policy)) == ["b"]


def test_protect_pattern_always_keeps(client, public_repo, alice):
    _push_series(client, public_repo, ["release-1", "v1", "release-2", "v2"])
    policy = _policy(alice, keep_last=1, protect_pattern="release-*")
    assert _tags(retention_plan(policy)) == ["v1"]


def test_untagged_older_than_deletes_old_untagged_manifests_and_counts_exclusive_bytes(
    client, public_repo, alice
):
    digests = _push_series(client, public_repo, ["keep", "old", "young"])
    # Another repository shares the `old` layer: deleting `old` here does not free it.
    factories.RepositoryFactory(namespace=alice.namespace, name="other")
    image_push(client, "alice/other", "x", layer=b"old")
    for name in ("old", "young"):
        tag_delete(tag=Tag.objects.get(repository=public_repo, name=name), actor=alice)
    Manifest.objects.filter(digest=digests["young"]).update(created_at=timezone.now())
    policy = _policy(alice, untagged_older_than_days=7)
    plan = retention_plan(policy)
    assert [(m.digest, m.reason) for m in plan.manifests] == [(digests["old"], "untagged")]
    assert plan.freed_bytes == 0  # the config is shared by all, the layer by alice/other
    # Its manifest gone, alice/other still links the layer (an upload record): still held.
    Manifest.objects.filter(repository__name="other").delete()
    assert retention_plan(policy).freed_bytes == 0
    alice.namespace.repositories.get(name="other").delete()
    assert retention_plan(policy).freed_bytes == len(b"old")

    retention_run(policy, dry_run=False, actor=alice)
    assert not Manifest.objects.filter(digest=digests["old"]).exists()
    assert ManifestTombstone.objects.filter(digest=digests["old"]).exists()  # restorable
    assert Manifest.objects.filter(digest__in=[digests["keep"], digests["young"]]).count() == 2


def test_a_tag_deleted_by_the_policy_takes_its_old_manifest_along(client, public_repo, alice):
    digests = _push_series(client, public_repo, ["v1", "v2"])
    plan = retention_plan(_policy(alice, keep_last=1, untagged_older_than_days=7))
    assert _tags(plan) == ["v1"]
    assert [m.digest for m in plan.manifests] == [digests["v1"]]
    assert plan.freed_bytes == len(b"v1")


def test_namespace_policy_applies_to_each_repository(client, public_repo, alice):
    tool = factories.RepositoryFactory(namespace=alice.namespace, name="tool")
    _push_series(client, public_repo, ["a1", "a2"])
    _push_series(client, tool, ["t1", "t2"])
    policy = retention_policy_create(actor=alice, namespace=alice.namespace, keep_last=1)
    plan = retention_plan(policy)
    assert sorted((tag.repository, tag.name) for tag in plan.tags) == [
        ("alice/app", "a1"),
        ("alice/tool", "t1"),
    ]


def test_proxy_cache_evicts_what_was_not_pulled(client, public_repo, alice):
    digests = _push_series(client, public_repo, ["hot", "cold"])
    _age(public_repo, "hot", 60, pulled_days=1)
    _age(public_repo, "cold", 60, pulled_days=45)
    with pytest.raises(ValidationError) as error:
        _policy(alice, evict_not_pulled_days=30)
    assert "evict_not_pulled_days" in error.value.message_dict
    public_repo.mirror_of = "registry-1.docker.io/library/app"
    public_repo.save()
    policy = _policy(alice, evict_not_pulled_days=30)
    plan = retention_plan(policy)
    assert [(t.name, t.reason) for t in plan.tags] == [("cold", "evicted")]
    assert [(m.digest, m.reason) for m in plan.manifests] == [(digests["cold"], "evicted")]
    retention_run(policy, dry_run=False)
    assert _remaining(public_repo) == ["hot"]


def test_proxy_cache_namespace_counts_as_a_proxy(client, alice):
    from registry_api.models import ProxyCache

    ProxyCache.objects.create(namespace="alice", upstream_url="https://registry.example")
    policy = retention_policy_create(
        actor=alice, namespace=alice.namespace, evict_not_pulled_days=30
    )
    assert policy.is_proxy_cache


def test_a_policy_needs_a_rule_and_valid_patterns(public_repo, alice):
    with pytest.raises(ValidationError):
        _policy(alice)
    with pytest.raises(ValidationError) as error:
        _policy(alice, keep_last=1, tag_pattern="v 1/..")
    assert "tag_pattern" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        _policy(alice, keep_last=0)
    assert "keep_last" in error.value.message_dict


def _mixed_repository(client, repository, alice):
    digests = _push_series(client, repository, ["v1", "v2", "v3", "keep-me"])
    image_push(client, repository.full_name, "gone", layer=b"gone")
    _age(repository, "gone", 30)
    tag_delete(tag=Tag.objects.get(repository=repository, name="gone"), actor=alice)
    return digests


def test_the_real_run_deletes_exactly_what_the_dry_run_listed(client, public_repo, alice):
    _mixed_repository(client, public_repo, alice)
    policy = _policy(alice, keep_last=1, protect_pattern="keep-*", untagged_older_than_days=7)
    before = {m.digest for m in Manifest.objects.filter(repository=public_repo)}
    dry = retention_run(policy, dry_run=True, actor=alice)
    assert dry.tags and dry.manifests  # the scenario deletes something
    assert Tag.objects.filter(repository=public_repo).count() == 4  # nothing deleted yet
    real = retention_run(policy, dry_run=False, actor=alice)
    dry_listed, real_listed = dry.as_dict(), real.as_dict()
    assert dry_listed.pop("dry_run") is True and real_listed.pop("dry_run") is False
    assert dry_listed == real_listed
    left = {m.digest for m in Manifest.objects.filter(repository=public_repo)}
    assert before - left == {m.digest for m in dry.manifests}
    assert not Tag.objects.filter(pk__in=[t.tag_id for t in dry.tags]).exists()
    policy.refresh_from_db()
    assert policy.last_result["tags"] == len(dry.tags) and policy.last_run_at is not None
    runs = AuditEntry.objects.filter(action="retention.run").order_by("pk")
    assert [entry.data["dry_run"] for entry in runs] == [True, False]
    assert runs.last().data["tags"] == len(dry.tags)
    assert runs.last().data["bytes"] == dry.freed_bytes


def test_a_multi_arch_image_and_its_signature_survive_deleting_an_unrelated_tag(
    client, public_repo, alice
):
    headers = bearer("alice", push_access("alice/app"))
    unrelated = image_push(client, "alice/app", "unrelated", layer=b"unrelated")
    index, children = _multi_arch(client, headers)
    assert manifest_put(client, "alice/app", "multi", index, headers, OCI_INDEX).status_code == 201
    signature = referrer_push(client, headers, index, artifact_type="application/vnd.dev.cosign")
    # A cosign tag-schema signature too (sha256-<hex>.sig), tagged and without `subject`.
    legacy = image_push(
        client, "alice/app", f"sha256-{digest_bytes(index)[7:]}.sig", layer=b"legacy sig"
    )
    old = timezone.now() - 60 * DAY
    Manifest.objects.filter(repository=public_repo).update(created_at=old)
    Tag.objects.filter(repository=public_repo).update(pushed_at=old)
    Tag.objects.filter(repository=public_repo, name="multi").update(pushed_at=timezone.now())
    policy = _policy(alice, keep_last=1, untagged_older_than_days=7)

    dry = retention_run(policy, dry_run=True, actor=alice)
    assert _tags(dry) == ["unrelated"]
    assert [m.digest for m in dry.manifests] == [unrelated]
    real = retention_run(policy, dry_run=False, actor=alice)
    assert (real.tags, real.manifests, real.freed_bytes) == (
        dry.tags,
        dry.manifests,
        dry.freed_bytes,
    )

    kept = {digest_bytes(index), digest_bytes(signature), legacy}
    kept |= {child["digest"] for child in children}
    assert (
        set(Manifest.objects.filter(repository=public_repo).values_list("digest", flat=True))
        == kept
    )
    got = client.get("/v2/alice/app/manifests/multi", HTTP_ACCEPT=OCI_INDEX, **headers)
    assert got.status_code == 200 and got.content == index
    for child in children:
        assert (
            client.get(f"/v2/alice/app/manifests/{child['digest']}", **headers).status_code == 200
        )
    referrers = client.get(f"/v2/alice/app/referrers/{digest_bytes(index)}", **headers)
    assert [m["digest"] for m in json.loads(referrers.content)["manifests"]] == [
        digest_bytes(signature)
    ]


def test_children_another_index_needs_stay_and_referrers_follow_their_subject(
    client, public_repo, alice
):
    headers = bearer("alice", push_access("alice/app"))
    index, children = _multi_arch(client, headers)
    assert manifest_put(client, "alice/app", "one", index, headers, OCI_INDEX).status_code == 201
    # A second index sharing the first child only.
    second = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": children[:1],
            "annotations": {"n": "2"},
        }
    ).encode()
    assert manifest_put(client, "alice/app", "two", second, headers, OCI_INDEX).status_code == 201
    signature = referrer_push(client, headers, index, artifact_type="application/vnd.dev.cosign")
    Manifest.objects.filter(repository=public_repo).update(created_at=timezone.now() - 60 * DAY)
    tag_delete(tag=Tag.objects.get(repository=public_repo, name="one"), actor=alice)

    plan = retention_plan(_policy(alice, untagged_older_than_days=7))
    assert [(m.digest, m.reason) for m in plan.manifests] == [
        (digest_bytes(signature), "referrer"),
        (digest_bytes(index), "untagged"),
        (children[1]["digest"], "child"),
    ]


def test_the_plan_reads_a_bounded_number_of_queries(
    client, public_repo, alice, django_assert_max_num_queries
):
    policy = _policy(alice, keep_last=2, untagged_older_than_days=7)
    config = image_push(client, "alice/app", "seed", layer=b"seed")
    seed = Manifest.objects.get(digest=config)
    blobs = list(seed.blobs.all())
    for count in (5, 60):
        for n in range(count):
            body = json.dumps(
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "n": n, "c": count}
            ).encode()
            manifest = Manifest.objects.create(
                repository=public_repo, digest=digest_bytes(body), media_type=seed.media_type,
                payload=body, size=len(body),
            )  # fmt: skip
            manifest.blobs.add(*blobs)
            Tag.objects.create(repository=public_repo, name=f"t{count}-{n}", manifest=manifest)
        # 10 reads, and one for the immutability rules once they are merged (_immutable_tags).
        with django_assert_max_num_queries(11):
            plan = retention_plan(policy)
        assert len(plan.tags) == Tag.objects.filter(repository=public_repo).count() - 2


def test_beat_runs_due_policies_on_their_schedule(client, public_repo, alice):
    _push_series(client, public_repo, ["v1", "v2"])
    daily = _policy(alice, keep_last=1)
    _policy(alice, keep_last=1, schedule="manual")
    _policy(alice, keep_last=1, enabled=False)
    assert retention_run_due() == 1
    assert _remaining(public_repo) == ["v2"]
    daily.refresh_from_db()
    assert retention_run_due(now=daily.last_run_at + timedelta(hours=2)) == 0
    assert retention_run_due(now=daily.last_run_at + DAY) == 1


def test_management_command_dry_run_lists_and_keeps(client, public_repo, alice, capsys):
    _push_series(client, public_repo, ["v1", "v2"])
    policy = _policy(alice, keep_last=1)
    call_command("retention_run", "--dry-run", "--policy", str(policy.pk))
    out = capsys.readouterr().out
    assert "would delete 1 tag(s)" in out and "alice/app:v1" in out
    assert _remaining(public_repo) == ["v1", "v2"]
    call_command("retention_run")
    assert _remaining(public_repo) == ["v2"]


def test_the_beat_task_is_scheduled_and_runs_the_due_policies(client, public_repo, alice, settings):
    from registry_api.tasks import retention_run_all

    entry = settings.CELERY_BEAT_SCHEDULE["retention-run"]
    assert entry["task"] == "registry_api.tasks.retention_run_all"
    assert entry["schedule"] == float(settings.RETENTION_INTERVAL_SECONDS) == 86400.0
    _push_series(client, public_repo, ["v1", "v2"])
    _policy(alice, keep_last=1)
    assert retention_run_all.delay().get() == 1
    assert _remaining(public_repo) == ["v2"]


def test_admin_actions_preview_and_run(client, public_repo, alice, admin_client):
    _push_series(client, public_repo, ["v1", "v2"])
    policy = _policy(alice, keep_last=1)
    url = "/admin/registry_api/retentionpolicy/"
    assert admin_client.get(url).status_code == 200
    answer = admin_client.post(
        url, {"action": "preview", "_selected_action": [policy.pk]}, follow=True
    )
    assert "would delete 1 tag(s)" in answer.content.decode()
    assert _remaining(public_repo) == ["v1", "v2"]
    admin_client.post(url, {"action": "run_now", "_selected_action": [policy.pk]})
    assert _remaining(public_repo) == ["v2"]


def test_what_changed_since_the_plan_is_skipped_not_deleted(client, public_repo, alice):
    from registry_api.services.retention import (
        PlannedManifest,
        PlannedTag,
        _manifest_remove,
        _tag_remove,
    )

    first = image_push(client, "alice/app", "v1", layer=b"first")
    image_push(client, "alice/app", "v1", layer=b"second")  # v1 moved after the plan saw it
    tag = Tag.objects.get(repository=public_repo, name="v1")
    assert _tag_remove(PlannedTag(tag.pk, "alice/app", "v1", first, "rules"), alice) == "moved"
    manifest = Manifest.objects.get(pk=tag.manifest_id)  # tagged again since
    planned = PlannedManifest(manifest.pk, "alice/app", manifest.digest, "x", "untagged")
    assert _manifest_remove(planned, alice) == "tagged"
    assert (
        Tag.objects.filter(pk=tag.pk).exists() and Manifest.objects.filter(pk=manifest.pk).exists()
    )


def test_a_live_tombstone_keeps_its_blobs_out_of_the_freed_bytes(client, public_repo, alice):
    from registry_api.services.manifests import manifest_delete

    headers = bearer("alice", push_access("alice/app"))
    one = image_push(client, "alice/app", "one", layer=b"shared")
    two = image_body(client, "alice/app", headers, layers=(b"shared", b"own"))
    assert manifest_put(client, "alice/app", "two", two, headers).status_code == 201
    manifest_delete(manifest=Manifest.objects.get(digest=one), actor=alice)  # a live tombstone
    tag_delete(tag=Tag.objects.get(repository=public_repo, name="two"), actor=alice)
    Manifest.objects.filter(repository=public_repo).update(created_at=timezone.now() - 60 * DAY)
    plan = retention_plan(_policy(alice, untagged_older_than_days=7))
    assert [m.digest for m in plan.manifests] == [digest_bytes(two)]
    assert plan.freed_bytes == len(b"own")  # config and `shared` are the tombstone's


def test_immutable_tags_are_skipped(client, public_repo, alice):
    # Runs once helper "deletes"' immutability rules are merged (see _immutable_tags).
    pytest.importorskip("registry_api.services.immutability")
    from registry_api.models import ImmutabilityRule

    _push_series(client, public_repo, ["v1", "v2", "v3"])
    ImmutabilityRule.objects.create(repository=public_repo, pattern="v1")
    plan = retention_plan(_policy(alice, keep_last=1))
    assert _tags(plan) == ["v2"]


def test_admin_form_needs_exactly_one_scope(public_repo, alice, admin_client):
    url = "/admin/registry_api/retentionpolicy/add/"
    fields = {"tag_pattern": "*", "keep_last": "2", "schedule": "daily", "enabled": "on"}
    for scope in ({}, {"repository": public_repo.pk, "namespace": alice.namespace.pk}):
        answer = admin_client.post(url, {**fields, **scope})
        assert answer.status_code == 200
        assert "Choose one repository or one namespace." in answer.content.decode()
    assert admin_client.post(url, {**fields, "repository": public_repo.pk}).status_code == 302
    policy = RetentionPolicy.objects.get()
    assert policy.repository == public_repo and policy.created_by.username == "admin"
    entry = AuditEntry.objects.get(action="retention.policy_create")
    assert entry.target == "alice/app" and entry.data["keep_last"] == 2


def test_nested_indexes_go_outermost_first_and_the_run_skips_nothing(client, public_repo, alice):
    headers = bearer("alice", push_access("alice/app"))
    inner, children = _multi_arch(client, headers)
    inner_digest = digest_bytes(inner)
    put = manifest_put(client, "alice/app", inner_digest, inner, headers, OCI_INDEX)
    assert put.status_code == 201
    outer = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [{"mediaType": OCI_INDEX, "digest": inner_digest, "size": len(inner)}],
        }
    ).encode()
    assert manifest_put(client, "alice/app", "nested", outer, headers, OCI_INDEX).status_code == 201
    Manifest.objects.filter(repository=public_repo).update(created_at=timezone.now() - 60 * DAY)
    tag_delete(tag=Tag.objects.get(repository=public_repo, name="nested"), actor=alice)
    policy = _policy(alice, untagged_older_than_days=7)
    planned = [m.digest for m in retention_plan(policy).manifests]
    assert planned[:2] == [digest_bytes(outer), inner_digest]
    assert set(planned[2:]) == {child["digest"] for child in children}
    result = retention_run(policy, dry_run=False, actor=alice)
    assert result.skipped == [] and [m.digest for m in result.manifests] == planned
    assert not Manifest.objects.filter(repository=public_repo).exists()
