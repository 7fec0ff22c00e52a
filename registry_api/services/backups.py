"""Back up an instance into a directory, and restore one into a new, empty instance.

A backup is the database (SQLite's online backup, or `pg_dump --format=custom`), taken first,
then the blobs it references (read through the storage seam, so any backend), then the keys
generated under DATA_DIR (a key set in the environment is named in the manifest, not copied).
Taking the database first keeps the copy consistent while the server runs: a blob pushed
later is an unreferenced extra, and blobs are immutable. Upload sessions in flight are not
kept (their clients start them again).

    <dest>/manifest.json         what was backed up, by which database and storage backend
    <dest>/database.sqlite3      or database.pgdump
    <dest>/blobs/<algorithm>/<xx>/<hex>
    <dest>/keys/<name>           secret_key, token_signing_key.pem, data_encryption_key
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from registry_api.digests import digest_parse, hasher_new
from registry_api.errors import DigestInvalid
from registry_api.models import Blob
from registry_api.storage import READ_CHUNK, blob_path, blobs, staging_dir

FORMAT = 1
MANIFEST = "manifest.json"
# DATA_DIR file of each key, and the setting it fills when the environment leaves it empty.
KEY_FILES = {
    "secret_key": "SECRET_KEY",
    "token_signing_key.pem": "TOKEN_SIGNING_KEY",
    "data_encryption_key": "DATA_ENCRYPTION_KEY",
}


class BackupError(Exception):
    """The backup or restore cannot be done; the message says why and what to do."""


@dataclass
class BackupReport:
    path: Path
    database: str
    blobs: int = 0
    blob_bytes: int = 0
    missing_blobs: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    keys_from_environment: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _vendor() -> str:
    return connection.vendor  # "sqlite" or "postgresql"


def _pg_environment() -> dict[str, str]:
    """libpq's variables for the configured PostgreSQL database (the password never on argv)."""
    db = connection.settings_dict
    env = {**os.environ, "PGDATABASE": db["NAME"]}
    for variable, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER")):
        if db.get(key):
            env[variable] = str(db[key])
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    if (db.get("OPTIONS") or {}).get("sslmode"):
        env["PGSSLMODE"] = db["OPTIONS"]["sslmode"]
    return env


def _run_pg_tool(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(
            f"{command[0]} is not installed (Debian: postgresql-client, of the server's major "
            "version or newer)."
        )
    # Fixed program names; the arguments are paths and settings, never request data.
    result = subprocess.run(command, env=_pg_environment(), capture_output=True, text=True)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()}")


def _database_dump(dest: Path) -> str:
    if _vendor() == "sqlite":
        target = dest / "database.sqlite3"
        source = sqlite3.connect(connection.settings_dict["NAME"], timeout=30)
        copy = sqlite3.connect(target)
        try:
            # One step: a consistent snapshot, while the server goes on writing (WAL).
            source.backup(copy)
        finally:
            copy.close()
            source.close()
        return target.name
    if _vendor() == "postgresql":
        target = dest / "database.pgdump"
        _run_pg_tool(["pg_dump", "--format=custom", "--file", str(target)])
        return target.name
    raise BackupError(f"cannot back up a {_vendor()} database")


def _copy_blob(digest: str, target: Path) -> int:
    target.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    with open(target, "wb") as out:
        for chunk in blobs().chunks(digest):
            out.write(chunk)
            size += len(chunk)
    return size


def backup_create(
    dest: Path, *, with_blobs: bool = True, progress: Callable[[str], None] = lambda _: None
) -> BackupReport:
    """Write a backup of this instance into `dest` (a new or empty directory)."""
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} is not empty: back up into a new directory.")
    dest.mkdir(parents=True, exist_ok=True)
    report = BackupReport(path=dest, database=_vendor())

    database_file = _database_dump(dest)
    progress(f"database: {database_file}")

    if with_blobs:
        for digest, size in (
            Blob.objects.order_by("digest").values_list("digest", "size").iterator()
        ):
            try:
                copied = _copy_blob(digest, dest / blob_path(digest))
            except FileNotFoundError:
                # Collected since the database was dumped (GC removes only what nothing used
                # for GC_GRACE_SECONDS), or lost before: the report names it.
                (dest / blob_path(digest)).unlink(missing_ok=True)
                report.missing_blobs.append(digest)
                continue
            if copied != size:
                raise BackupError(f"blob {digest}: {copied} bytes read, {size} recorded")
            report.blobs += 1
            report.blob_bytes += copied
        progress(f"blobs: {report.blobs} ({report.blob_bytes} bytes)")

    keys_dir = dest / "keys"
    keys_dir.mkdir()
    for filename, setting in KEY_FILES.items():
        path = Path(settings.DATA_DIR) / filename
        value = getattr(settings, setting)
        if path.exists() and path.read_text().strip() == value.strip():
            shutil.copyfile(path, keys_dir / filename)
            report.keys.append(filename)
        else:
            report.keys_from_environment.append(setting)

    manifest = {
        "format": FORMAT,
        "created_at": timezone.now().isoformat(),
        "database": {"vendor": report.database, "file": database_file},
        "storage_backend": settings.STORAGE_BACKEND,
        "blobs": {"included": with_blobs, "count": report.blobs, "bytes": report.blob_bytes},
        "missing_blobs": report.missing_blobs,
        "keys": report.keys,
        # Set in the environment, so not copied: restoring needs the same values there.
        "keys_from_environment": report.keys_from_environment,
    }
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return report


def _manifest(source: Path) -> dict:
    try:
        manifest = json.loads((source / MANIFEST).read_text())
    except FileNotFoundError as exc:
        raise BackupError(f"{source} has no {MANIFEST}: not a Dockyard backup.") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{source}: backup format {manifest.get('format')} is not {FORMAT}.")
    return manifest


def _database_is_empty() -> bool:
    return not set(connection.introspection.table_names()) - {"sqlite_sequence"}


def _database_load(source: Path, manifest: dict) -> None:
    vendor = manifest["database"]["vendor"]
    if vendor != _vendor():
        raise BackupError(
            f"The backup holds a {vendor} database and this instance uses {_vendor()}: restore "
            f"into a {vendor} database (DATABASE_URL)."
        )
    dump = source / manifest["database"]["file"]
    if vendor == "sqlite":
        name = connection.settings_dict["NAME"]
        connection.close()
        backup = sqlite3.connect(dump)
        target = sqlite3.connect(name, timeout=30)
        try:
            backup.backup(target)
        finally:
            target.close()
            backup.close()
    else:
        # Objects owned by whoever restores (the dump's roles need not exist here).
        _run_pg_tool(
            [
                "pg_restore",
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
            ]
            + ["--dbname", connection.settings_dict["NAME"], str(dump)]
        )


def _blob_restore(digest: str, path: Path) -> int:
    """Copy one backed-up blob into the store, checking its digest on the way."""
    try:
        parsed = digest_parse(digest)
    except DigestInvalid as exc:
        raise BackupError(f"{path} is not named by a digest: the backup is damaged.") from exc
    hasher = hasher_new(parsed.algorithm)
    fd, staged_name = tempfile.mkstemp(dir=staging_dir(), prefix="restore-")
    staged = Path(staged_name)
    try:
        with open(path, "rb") as source, os.fdopen(fd, "wb") as out:
            while chunk := source.read(READ_CHUNK):
                hasher.update(chunk)
                out.write(chunk)
        if hasher.hexdigest() != parsed.hex:
            raise BackupError(f"{path} does not hash to {digest}: the backup is damaged.")
        size = staged.stat().st_size
        blobs().put_verified(digest, staged)
        return size
    finally:
        staged.unlink(missing_ok=True)


def _storage_keys_clear() -> None:
    """The restored blobs are at their content addresses now, wherever the backed-up instance
    kept them (`Blob.storage_key`). The database may be of a version without the column yet:
    its migration adds it empty."""
    table = Blob._meta.db_table
    with connection.cursor() as cursor:
        described = connection.introspection.get_table_description(cursor, table)
        columns = {column.name for column in described}
        if "storage_key" in columns:
            cursor.execute(f"UPDATE {table} SET storage_key = ''")  # noqa: S608 - our table name


def backup_restore(
    source: Path, *, with_blobs: bool = True, progress: Callable[[str], None] = lambda _: None
) -> BackupReport:
    """Restore the backup in `source` into this instance, whose database must be empty.

    Not migrated here: starting the server does that (scripts/run.sh, `dockyard migrate`), in a
    process that loads the restored keys, so a backup of an older version comes up on this one.
    """
    source = Path(source)
    manifest = _manifest(source)
    if not _database_is_empty():
        raise BackupError(
            "This instance's database is not empty: restore into a new database (DATABASE_URL) "
            "and a new DATA_DIR."
        )
    report = BackupReport(path=source, database=manifest["database"]["vendor"])

    # Keys first: the restored rows are encrypted and signed with them.
    for filename in manifest["keys"]:
        if filename not in KEY_FILES:
            continue
        target = Path(settings.DATA_DIR) / filename
        setting = KEY_FILES[filename]
        if not (
            target.exists() and target.read_text().strip() == getattr(settings, setting).strip()
        ):
            report.warnings.append(
                f"{setting} is set in the environment: the restored {filename} is used only "
                "once it is unset."
            )
        target.unlink(missing_ok=True)  # generated when this process loaded its settings
        shutil.copyfile(source / "keys" / filename, target)
        os.chmod(target, 0o600)
        report.keys.append(filename)
    report.keys_from_environment = list(manifest.get("keys_from_environment", []))

    _database_load(source, manifest)
    progress(f"database: {manifest['database']['file']}")

    blobs_dir = source / "blobs"
    if with_blobs and blobs_dir.is_dir():
        for path in sorted(p for p in blobs_dir.glob("*/*/*") if p.is_file()):
            digest = f"{path.parent.parent.name}:{path.name}"
            report.blob_bytes += _blob_restore(digest, path)
            report.blobs += 1
        _storage_keys_clear()
        progress(f"blobs: {report.blobs} ({report.blob_bytes} bytes)")

    return report
