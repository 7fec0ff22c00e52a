"""manage.py backup/restore refusals and the blob check (tests/e2e/test_backup_restore.py does
whole backups and restores with real servers)."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.core.management import CommandError, call_command

from registry_api.services.backups import BackupError, _blob_restore
from registry_api.storage import blobs


def test_backup_wants_a_new_directory(tmp_path):
    (tmp_path / "old-backup").mkdir()
    (tmp_path / "old-backup" / "manifest.json").write_text("{}")
    with pytest.raises(CommandError, match="not empty"):
        call_command("backup", str(tmp_path / "old-backup"))


def test_restore_wants_a_backup(tmp_path):
    with pytest.raises(CommandError, match="not a Dockyard backup"):
        call_command("restore", str(tmp_path))
    (tmp_path / "manifest.json").write_text(json.dumps({"format": 99}))
    with pytest.raises(CommandError, match="format 99"):
        call_command("restore", str(tmp_path))


@pytest.mark.django_db
def test_restore_never_overwrites_a_database_in_use(tmp_path):
    (tmp_path / "manifest.json").write_text(
        json.dumps({"format": 1, "database": {"vendor": "sqlite", "file": "database.sqlite3"}})
    )
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", str(tmp_path))


def test_a_damaged_blob_is_refused_and_a_sound_one_stored(tmp_path):
    body = b"layer bytes"
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    damaged = tmp_path / "damaged"
    damaged.write_bytes(body + b"!")
    with pytest.raises(BackupError, match="damaged"):
        _blob_restore(digest, damaged)
    assert not blobs().exists(digest)

    sound = tmp_path / "sound"
    sound.write_bytes(body)
    assert _blob_restore(digest, sound) == len(body)
    assert b"".join(blobs().chunks(digest)) == body
    assert sound.exists()  # the backup is read, never consumed


def test_a_blob_file_not_named_by_a_supported_digest_is_refused(tmp_path):
    body = b"layer bytes"
    path = tmp_path / "blob"
    path.write_bytes(body)
    for digest in ("md5:" + hashlib.md5(body).hexdigest(), "sha256:tooshort"):  # noqa: S324
        with pytest.raises(BackupError, match="damaged"):
            _blob_restore(digest, path)


@pytest.mark.django_db  # the S3 store asks the Blob rows where a digest's bytes are
def test_blobs_move_between_backends_through_the_seam(tmp_path, s3_registry_storage):
    """A filesystem backup restores into S3 and an S3 instance backs up to files: both sides go
    through the storage seam, never a backend's own layout."""
    from registry_api.services.backups import _copy_blob

    body = b"a layer on its way to S3"
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    from_filesystem = tmp_path / "blobs" / "sha256" / digest[7:9] / digest[7:]
    from_filesystem.parent.mkdir(parents=True)
    from_filesystem.write_bytes(body)
    _blob_restore(digest, from_filesystem)
    stored = s3_registry_storage.client().list_objects_v2(Bucket=s3_registry_storage.bucket)
    assert any(
        item["Key"].endswith(f"blobs/sha256/{digest[7:9]}/{digest[7:]}")
        for item in stored["Contents"]
    )

    backed_up = tmp_path / "backup" / "blob"
    assert _copy_blob(digest, backed_up) == len(body)
    assert backed_up.read_bytes() == body
