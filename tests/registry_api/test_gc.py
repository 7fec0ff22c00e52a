"""Online garbage collection (registry_api.services.gc): what each kind collects, the grace
period, tombstones, shared blobs, dry runs, storage deletes after the commit, S3 batching, the
run record, beat task, command and admin button, and a push racing sweeps in two processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone

from hub.models import AuditEntry
from registry_api import storage
from registry_api.digests import digest_bytes
from registry_api.manifests import manifest_parse
from registry_api.models import Blob, BlobUpload, GcRun, Manifest, ManifestTombstone, RepositoryBlob
from registry_api.selectors.blobs import blob_linked
from registry_api.services import gc
from registry_api.services.manifests import manifest_delete, manifest_push, manifest_validate
from registry_api.services.uploads import Chunk, upload_complete, upload_start
from tests import factories

pytestmark = pytest.mark.django_db

OCI = "application/vnd.oci.image.manifest.v1+json"
HOUR = 3600
CONFIG = b'{"architecture": "amd64"}'


def _upload(repository, data: bytes) -> str:
    """Upload through the upload service, as a client's PUT ?digest= does."""
    digest = digest_bytes(data)
    upload = upload_start(repository=repository)
    upload_complete(upload=upload, digest=digest, chunk=Chunk(chunks=[data], length=len(data)))
    return digest


def _push(repository, layer: bytes, tag: str = "latest") -> Manifest:
    digests = [_upload(repository, CONFIG), _upload(repository, layer)]
    body = json.dumps({
        "schemaVersion": 2,
        "mediaType": OCI,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": digests[0], "size": len(CONFIG)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": digests[1], "size": len(layer)}],
    }).encode()  # fmt: skip
    valid = manifest_validate(reference=tag, body=body, content_type=OCI)
    return manifest_push(repository=repository, valid=valid, actor=None)


def _age(seconds: int) -> None:
    """Everything recorded so far happened `seconds` ago."""
    then = timezone.now() - timedelta(seconds=seconds)
    Blob.objects.update(created_at=then)
    RepositoryBlob.objects.update(created_at=then)


def _collect(**kwargs) -> GcRun:
    return gc.gc_run(trigger="command", **kwargs)


def _kept(digest: str) -> bool:
    present = Blob.objects.filter(digest=digest).exists()
    assert present == storage.blobs().exists(digest)  # never a row without bytes, or the reverse
    return present


@pytest.fixture
def repo(public_repo):
    return public_repo


@pytest.fixture
def other(alice):
    return factories.RepositoryFactory(namespace=alice.namespace, name="other")


def test_an_upload_whose_manifest_never_came_is_collected_after_the_grace(repo, settings):
    settings.GC_GRACE_SECONDS = HOUR
    digest = _upload(repo, b"orphaned layer")
    _age(HOUR - 60)
    run = _collect()
    assert (run.blobs_freed, run.links_dropped) == (0, 0)
    assert _kept(digest)

    _age(HOUR + 60)
    run = _collect()
    assert (run.blobs_freed, run.bytes_freed, run.links_dropped) == (1, len(b"orphaned layer"), 1)
    assert not _kept(digest)
    assert run.trigger == "command" and run.finished_at and not run.errors
    entry = AuditEntry.objects.get(action="gc.run", target=f"gc:{run.pk}")
    assert entry.data["blobs_freed"] == 1 and entry.data["bytes_freed"] == len(b"orphaned layer")


def test_grace_seconds_argument_overrides_the_setting(repo, settings):
    settings.GC_GRACE_SECONDS = 10 * HOUR
    digest = _upload(repo, b"layer")
    _age(2 * HOUR)
    assert _collect().blobs_freed == 0
    assert _collect(grace_seconds=HOUR).blobs_freed == 1
    assert not _kept(digest)


def test_blobs_of_manifests_are_kept_even_untagged(repo, settings):
    settings.GC_GRACE_SECONDS = 0
    manifest = _push(repo, b"tagged layer", tag="one")
    untagged = _push(repo, b"other layer", tag="two")
    untagged.tags.all().delete()
    _age(HOUR)
    run = _collect()
    assert (run.blobs_freed, run.links_dropped) == (0, 0)
    for m in (manifest, untagged):
        assert Manifest.objects.filter(pk=m.pk).exists()  # GC never collects manifests
        for blob in m.blobs.all():
            assert _kept(blob.digest) and blob_linked(repository=repo, digest=blob.digest)


def test_a_deleted_manifests_blobs_stay_until_its_tombstone_expires(repo, settings):
    settings.GC_GRACE_SECONDS = 0
    settings.TAG_RESTORE_SECONDS = 2 * HOUR
    manifest = _push(repo, b"released layer")
    digests = list(manifest.blobs.values_list("digest", flat=True))
    manifest_delete(manifest=manifest, actor=None)
    _age(3 * HOUR)
    run = _collect()
    assert (run.blobs_freed, run.links_dropped, run.tombstones_expired) == (0, 0, 0)
    for digest in digests:  # restorable: the blobs and this repository's links stay
        assert _kept(digest) and blob_linked(repository=repo, digest=digest)

    ManifestTombstone.objects.update(deleted_at=timezone.now() - timedelta(seconds=2 * HOUR + 1))
    run = _collect()
    assert (run.tombstones_expired, run.links_dropped, run.blobs_freed) == (1, 2, 2)
    assert not any(_kept(digest) for digest in digests)


def test_a_blob_shared_by_two_repositories_stays_while_one_uses_it(repo, other, settings):
    settings.GC_GRACE_SECONDS = 0
    manifest = _push(repo, b"shared layer")
    layer = digest_bytes(b"shared layer")
    assert _upload(other, b"shared layer") == layer  # other uploaded it, never pushed a manifest
    _age(HOUR)
    run = _collect()
    assert run.blobs_freed == 0
    assert run.links_dropped == 1  # other's link to the layer
    assert _kept(layer)
    assert blob_linked(repository=repo, digest=layer)
    assert not blob_linked(repository=other, digest=layer)

    manifest_delete(manifest=manifest, actor=None)
    ManifestTombstone.objects.update(deleted_at=timezone.now() - timedelta(days=30))
    assert _collect().blobs_freed == 2
    assert not _kept(layer)


def test_a_dry_run_reports_what_the_run_frees_and_changes_nothing(repo, settings):
    settings.GC_GRACE_SECONDS = HOUR
    settings.UPLOAD_PURGE_AFTER_SECONDS = HOUR
    _push(repo, b"kept layer")
    garbage = [_upload(repo, f"garbage {i}".encode()) for i in range(3)]
    upload_start(repository=repo)
    BlobUpload.objects.update(updated_at=timezone.now() - timedelta(hours=2))
    _age(2 * HOUR)
    counts = (Blob.objects.count(), RepositoryBlob.objects.count(), BlobUpload.objects.count())

    dry = _collect(dry_run=True)
    assert dry.dry_run
    assert (Blob.objects.count(), RepositoryBlob.objects.count(), BlobUpload.objects.count()) == (
        counts
    )
    assert all(_kept(digest) for digest in garbage)

    real = _collect()
    fields = ["blobs_freed", "bytes_freed", "links_dropped", "uploads_purged"]
    assert [getattr(dry, f) for f in fields] == [getattr(real, f) for f in fields]
    assert real.blobs_freed == 3 and real.uploads_purged >= 1
    assert not any(_kept(digest) for digest in garbage)


def test_abandoned_upload_sessions_are_purged(repo, settings):
    settings.UPLOAD_PURGE_AFTER_SECONDS = HOUR
    stale, fresh = upload_start(repository=repo), upload_start(repository=repo)
    BlobUpload.objects.filter(pk=stale.pk).update(updated_at=timezone.now() - timedelta(hours=2))
    assert _collect().uploads_purged == 1
    assert list(BlobUpload.objects.values_list("pk", flat=True)) == [fresh.pk]


@pytest.mark.django_db(transaction=True)
def test_storage_deletes_happen_after_the_commit(repo, settings, monkeypatch):
    settings.GC_GRACE_SECONDS = 0
    digests = [_upload(repo, f"layer {i}".encode()) for i in range(3)]
    _age(HOUR)
    store = storage.blobs()
    real_delete_many = store.delete_many
    seen = []

    def delete_many_checking(batch):
        # Another connection sees only committed rows: the swept rows must be gone for it.
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute(f"SELECT digest FROM {Blob._meta.db_table}")  # noqa: S608
                seen.append(len({row[0] for row in cursor.fetchall()} & set(batch)))
        finally:
            other.close()
        return real_delete_many(batch)

    monkeypatch.setattr(store, "delete_many", delete_many_checking)
    assert _collect().blobs_freed == 3
    assert seen == [0]
    assert not any(store.exists(digest) for digest in digests)


def test_a_failed_storage_delete_leaves_an_orphan_for_the_next_walk(repo, settings, monkeypatch):
    settings.GC_GRACE_SECONDS = 0
    digest = _upload(repo, b"stubborn")
    _age(HOUR)
    store = storage.blobs()
    monkeypatch.setattr(store, "delete_many", lambda digests: list(digests))
    run = _collect()
    assert (run.blobs_freed, run.storage_failures) == (1, 1)
    assert not Blob.objects.filter(digest=digest).exists() and store.exists(digest)
    monkeypatch.undo()
    out = StringIO()
    call_command("garbage_collect", "--orphans", stdout=out)
    assert "deleted 1 orphaned stored blob(s)" in out.getvalue()
    assert not storage.blobs().exists(digest)


def test_one_collection_at_a_time(repo):
    from registry_api.tasks import garbage_collect

    cache.add(gc.LOCK_KEY, "someone else", 60)
    with pytest.raises(gc.GcBusy):
        _collect()
    assert garbage_collect.delay().get() is None
    assert not GcRun.objects.exists()
    cache.delete(gc.LOCK_KEY)
    run = GcRun.objects.get(pk=garbage_collect.delay().get())
    assert run.trigger == "schedule"
    assert cache.get(gc.LOCK_KEY) is None  # released


def test_beat_runs_one_collection_every_interval():
    from registry_api.tasks import garbage_collect

    entry = django_settings.CELERY_BEAT_SCHEDULE["garbage-collect"]
    assert entry["task"] == garbage_collect.name
    assert entry["schedule"] == float(django_settings.GC_INTERVAL_SECONDS)
    assert "uploads-purge" not in django_settings.CELERY_BEAT_SCHEDULE  # part of the collection


def test_with_gc_off_uploads_are_still_purged_on_their_own(repo, settings):
    import subprocess

    from registry_api.tasks import purge_stale_uploads

    # Settings are read at import: ask a fresh interpreter with GC_INTERVAL_SECONDS=0.
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps(sorted(e['task'] for e in s.CELERY_BEAT_SCHEDULE.values())))"
    )
    env = {**os.environ, "GC_INTERVAL_SECONDS": "0", "DJANGO_SETTINGS_MODULE": "config.settings"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, check=True)
    tasks = json.loads(out.stdout.decode().strip().splitlines()[-1])
    assert purge_stale_uploads.name in tasks
    assert "registry_api.tasks.garbage_collect" not in tasks
    settings.UPLOAD_PURGE_AFTER_SECONDS = HOUR
    upload = upload_start(repository=repo)
    BlobUpload.objects.filter(pk=upload.pk).update(updated_at=timezone.now() - timedelta(hours=2))
    assert purge_stale_uploads.delay().get() == 1


def test_the_command_prints_what_it_freed(repo, settings):
    settings.GC_GRACE_SECONDS = 0
    _upload(repo, b"12345")
    _age(HOUR)
    out = StringIO()
    call_command("garbage_collect", "--dry-run", stdout=out)
    assert "would free 1 blob(s) (5 bytes" in out.getvalue()
    call_command("garbage_collect", "--grace-seconds", str(2 * HOUR), stdout=out)
    assert "freed 0 blob(s)" in out.getvalue()
    call_command("garbage_collect", stdout=out)
    assert "freed 1 blob(s) (5 bytes" in out.getvalue()
    assert list(GcRun.objects.values_list("trigger", "dry_run", "blobs_freed")) == [
        ("command", False, 1), ("command", False, 0), ("command", True, 1),
    ]  # fmt: skip


def test_the_admin_runs_a_collection_and_shows_it(client, repo, settings):
    from hub.models import User

    settings.GC_GRACE_SECONDS = 0
    _upload(repo, b"12345")
    _age(HOUR)
    admin_user = User.objects.create_superuser("root", "root@example.com", "pw-for-root-1")
    client.force_login(admin_user)
    assert client.get("/admin/registry_api/gcrun/run/").status_code == 405
    page = client.post("/admin/registry_api/gcrun/run/", follow=True)
    assert page.status_code == 200
    assert "freed 1 blobs (5" in page.content.decode()
    run = GcRun.objects.get()
    assert (run.trigger, run.blobs_freed) == ("admin", 1)
    assert AuditEntry.objects.get(action="gc.run").actor == admin_user
    assert "Run garbage collection now" in page.content.decode()


def test_staff_without_superuser_cannot_start_one(client, alice):
    alice.is_staff = True
    alice.save()
    client.force_login(alice)
    assert client.post("/admin/registry_api/gcrun/run/").status_code == 403
    assert not GcRun.objects.exists()


# Storage drivers -----------------------------------------------------------------------------


def test_s3_deletes_in_batches_of_a_thousand(s3_registry_storage, settings, repo):
    store = storage.blobs()
    client = store.storage.bucket.meta.client
    digests = [digest_bytes(f"object {i}".encode()) for i in range(2100)]
    for digest in digests:
        client.put_object(
            Bucket=store.storage.bucket_name,
            Key=store.storage._normalize_name(storage.blob_path(digest)),
            Body=b"x",
        )
    calls = []
    client = store.storage.bucket.meta.client
    client.meta.events.register(
        "provide-client-params.s3.DeleteObjects",
        lambda params, **kw: calls.append(len(params["Delete"]["Objects"])),
    )
    missing = digest_bytes(b"never stored")
    assert store.delete_many([*digests, missing]) == []
    assert sorted(calls) == [101, 1000, 1000]
    assert not any(store.exists(digest) for digest in digests[::300])
    assert list(store.digests()) == []


# The race ------------------------------------------------------------------------------------

WORKER = Path(__file__).with_name("gc_race_worker.py")


@pytest.mark.django_db(transaction=True)
def test_a_push_racing_sweeps_in_another_process_never_loses_a_blob(repo, settings, tmp_path):
    if connection.vendor == "sqlite":
        pytest.skip("needs a database that takes concurrent writers")
    pushes = int(os.environ.get("GC_RACE_PUSHES", "200"))
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DATA_DIR": str(tmp_path),  # storage at tmp_path/storage, as this test's settings
        "UPLOAD_STAGING_DIR": str(settings.UPLOAD_STAGING_DIR),
        "STORAGE_BACKEND": "filesystem",
        "GC_GRACE_SECONDS": "0",
    }
    stop = tmp_path / "stop"
    sweeper = subprocess.Popen(
        [sys.executable, str(WORKER), "sweep", str(stop)], env=env, stdout=subprocess.PIPE
    )
    try:
        time.sleep(1)
        pusher = subprocess.run(
            [sys.executable, str(WORKER), "push", str(repo.pk), str(pushes)],
            env=env, stdout=subprocess.PIPE, timeout=600, check=True,
        )  # fmt: skip
    finally:
        stop.touch()
        swept = json.loads(sweeper.communicate(timeout=120)[0])
    pushed = json.loads(pusher.stdout)
    assert pushed["errors"] == [] and swept["errors"] == []
    assert pushed["stored"] + pushed["refused"] == pushes
    assert swept["blobs"] > 0 and swept["runs"] > 10  # the sweeps did collect meanwhile
    # Some pushes must win, and every stored manifest must be whole, in the database and storage.
    manifests = list(Manifest.objects.filter(repository=repo))
    assert len(manifests) == pushed["stored"] > 0
    store = storage.blobs()
    for manifest in manifests:
        for digest in manifest_parse(
            bytes(manifest.payload), manifest.media_type
        ).required_blob_digests:
            assert blob_linked(repository=repo, digest=digest), (manifest.digest, digest)
            assert manifest.blobs.filter(digest=digest).exists()
            assert store.exists(digest), (manifest.digest, digest)
    print(f"race: {pushed} / {swept}")
