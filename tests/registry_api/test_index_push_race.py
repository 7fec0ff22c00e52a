"""An index pushed while one of its children is being deleted: the protocol's error, never a 500.

The push used to read its children without a lock, so a delete committing in between left it
linking a row that no longer exists (IntegrityError at commit on PostgreSQL).
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from registry_api.digests import digest_bytes
from registry_api.manifests import OCI_INDEX
from registry_api.models import Manifest
from registry_api.service_errors import ManifestReferenceUnknown
from registry_api.services.manifests import manifest_delete, manifest_push, manifest_validate
from tests.registry_api.test_manifests import descriptor, dumps
from tests.registry_api.test_safe_deletes import headers, platform_push  # noqa: F401 - fixture

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


@pytest.mark.django_db(transaction=True)
def test_an_index_push_racing_a_child_delete_is_refused_cleanly(client, headers, alice):  # noqa: F811
    if connection.vendor == "sqlite":
        pytest.skip("needs a database that takes concurrent writers")
    child = platform_push(client, headers, "arm64")
    child_row = Manifest.objects.get(digest=digest_bytes(child))
    index = dumps(
        {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [descriptor(OCI_MANIFEST, child)]}
    )
    valid = manifest_validate(reference="multi", body=index, content_type=OCI_INDEX)
    deleted, release = threading.Event(), threading.Event()
    failures = []

    def delete_child_and_hold():
        try:
            with transaction.atomic():
                manifest_delete(manifest=child_row, actor=alice)
                deleted.set()
                release.wait(10)  # the push starts while this delete is uncommitted
        except Exception as exc:  # surfaced by the assertion below
            failures.append(exc)
        finally:
            deleted.set()
            connection.close()

    deleter = threading.Thread(target=delete_child_and_hold)
    deleter.start()
    assert deleted.wait(10)
    threading.Timer(0.5, release.set).start()
    started = time.monotonic()
    with pytest.raises(ManifestReferenceUnknown):
        manifest_push(repository=child_row.repository, valid=valid, actor=alice)
    deleter.join(10)
    assert failures == []
    assert time.monotonic() - started >= 0.4  # the push waited for the delete to decide
    assert not Manifest.objects.filter(digest=valid.digest).exists()
