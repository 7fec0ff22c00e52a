"""A backup restored into a fresh instance serves the same registry (docs/deployment.md).

Push to a server with its own DATA_DIR and database, back it up with `manage.py backup` while it
serves, restore into a new DATA_DIR and a new database with `manage.py restore`, start that,
and pull: the same manifests and digests, byte for byte. The restored keys matter too: webhook
secrets (encrypted at rest) still decrypt, and a token the old instance signed is accepted.
Once on SQLite and once on PostgreSQL (when the run has it).
"""

from __future__ import annotations

import hashlib
import json

import pytest
import requests

from tests.conftest import PASSWORD
from tests.e2e.images import MiB, build_image
from tests.e2e.server import Server, drop_throwaway_database, throwaway_database_url
from tests.e2e.tools import Skopeo, registry_token

MANIFEST_TYPES = (
    "application/vnd.oci.image.manifest.v1+json,"
    "application/vnd.docker.distribution.manifest.v2+json"
)
WEBHOOK_SECRET = "restored-webhook-secret-7f3a"  # noqa: S105 - a test value


def _database(kind: str, directory) -> str:
    if kind == "sqlite":
        return f"sqlite:///{directory / 'db.sqlite3'}"
    url = throwaway_database_url()
    if not url.startswith("postgres"):
        pytest.skip("this run has no PostgreSQL (DATABASE_URL=postgres://…)")
    return url


def _server(data_dir, database_url: str) -> Server:
    # One gunicorn worker: these servers answer one client, and each worker costs a start.
    env = {"DATABASE_URL": database_url, "REDIS_URL": "", "CELERY_BROKER_URL": ""}
    return Server(data_dir, env={**env, "WEB_WORKERS": "1"})


def _manifest(server: Server, token: str, reference: str) -> requests.Response:
    return requests.get(
        f"{server.url}/v2/alice/kept/manifests/{reference}",
        headers={"Authorization": f"Bearer {token}", "Accept": MANIFEST_TYPES},
        timeout=30,
    )


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_restored_backup_serves_the_same_images(database, tmp_path):
    skopeo = Skopeo(tmp_path / "skopeo")
    creds = f"alice:{PASSWORD}"
    old_database = _database(database, tmp_path / "old")
    new_database = _database(database, tmp_path / "new")
    old = _server(tmp_path / "old", old_database)
    new = _server(tmp_path / "new", new_database)
    try:
        old.start()
        old.create_user("alice", PASSWORD)
        images = [
            build_image(tmp_path / "layers", message=f"kept {n}", sizes=(1 * MiB,), seed=40 + n)
            for n in (1, 2)
        ]
        digests = {}
        for n, image in enumerate(images, start=1):
            source = image.write_oci_layout(tmp_path / f"oci-{n}", "x")
            digests[str(n)] = skopeo.push(source, f"docker://{old.address}/alice/kept:{n}", creds)
        # At rest the secret is ciphertext: decrypting it below needs the restored key.
        raw = old.python(
            "from django.db import connection\n"  # noqa: S608 - a fixed query, in the server shell
            "from hub.models import Repository\n"
            "from webhooks.models import Webhook\n"
            "repository = Repository.objects.get(namespace__name='alice', name='kept')\n"
            "Webhook.objects.create(repository=repository, name='ci', events=['push'],\n"
            f"    url='https://ci.example.com/hook', secret={WEBHOOK_SECRET!r})\n"
            "with connection.cursor() as cursor:\n"
            "    cursor.execute(\"SELECT secret FROM webhooks_webhook WHERE name = 'ci'\")\n"
            "    print(cursor.fetchone()[0])\n"
        ).splitlines()[-1]
        assert raw and WEBHOOK_SECRET not in raw
        old_token = registry_token(old.url, "repository:alice/kept:pull", ("alice", PASSWORD))

        # The documented steps: back up while serving; restore into a new instance; start it.
        backup_dir = tmp_path / "backup"
        output = old.manage("backup", str(backup_dir))
        manifest = json.loads((backup_dir / "manifest.json").read_text())
        assert manifest["database"]["vendor"] == database
        assert set(manifest["keys"]) == {
            "secret_key",
            "token_signing_key.pem",
            "data_encryption_key",
        }
        assert manifest["missing_blobs"] == []
        old.stop()

        new.data_dir.mkdir(parents=True)
        new.manage("restore", str(backup_dir))
        for key in manifest["keys"]:
            assert (new.data_dir / key).read_bytes() == (old.data_dir / key).read_bytes()
        new.start()

        token = registry_token(new.url, "repository:alice/kept:pull", ("alice", PASSWORD))
        referenced = set()
        for tag, digest in digests.items():
            answer = _manifest(new, token, tag)
            assert answer.status_code == 200, answer.text
            assert answer.headers["Docker-Content-Digest"] == digest
            assert "sha256:" + hashlib.sha256(answer.content).hexdigest() == digest
            for descriptor in [answer.json()["config"], *answer.json()["layers"]]:
                referenced.add(descriptor["digest"])
                blob = requests.get(
                    f"{new.url}/v2/alice/kept/blobs/{descriptor['digest']}",
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=30,
                )
                assert blob.status_code == 200
                assert "sha256:" + hashlib.sha256(blob.content).hexdigest() == descriptor["digest"]

        assert manifest["blobs"]["count"] == len(referenced), output  # each blob once

        # A real client pulls it, by tag and by digest.
        pulled = skopeo(
            "copy",
            "--src-tls-verify=false",
            "--src-creds",
            creds,
            f"docker://{new.address}/alice/kept@{digests['1']}",
            f"oci:{tmp_path / 'pulled'}:1",
        )
        assert pulled.returncode == 0
        inspected = json.loads(
            skopeo(
                "inspect",
                "--tls-verify=false",
                "--creds",
                creds,
                f"docker://{new.address}/alice/kept:2",
            ).stdout
        )
        assert inspected["Digest"] == digests["2"]
        assert sorted(inspected["RepoTags"]) == ["1", "2"]

        # The restored keys: the secret decrypts, the old instance's token is still valid.
        secret = new.python(
            "from webhooks.models import Webhook\nprint(Webhook.objects.get(name='ci').secret)"
        ).splitlines()[-1]
        assert secret == WEBHOOK_SECRET
        assert _manifest(new, old_token, "1").status_code == 200

    finally:
        old.stop()
        new.stop()
        drop_throwaway_database(old_database)
        drop_throwaway_database(new_database)
