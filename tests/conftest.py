"""The cast and the settings every test shares.

alice owns alice/app (public) and alice/secret (private); bob collaborates on alice/secret
with write; charlie is an outsider; acme is an organization owned by alice with dave as member.
"""

from __future__ import annotations

import base64

import pytest
from django.core.cache import cache

from tests import factories

PASSWORD = "correct-horse-battery"

# `make test` runs the unit layer once, on SQLite (the embedded default), then the end-to-end
# tests on PostgreSQL together with the unit tests marked `postgres`: those of code that takes a
# different path there (search, garbage collection, backups, S3 staging locks, tag ordering,
# rate limits, row locks on tags, manifests and quotas) and every test that needs transactions
# of its own (concurrent writers), marked here so that the list lives in one place.
POSTGRES_LAYER = (
    "tests/api/test_tag_ordering.py",
    "tests/api/test_usage_quota_api.py",
    "tests/auth/test_invitations.py",
    "tests/mirror/test_blobs.py",
    "tests/mirror/test_upstream_auth.py",
    "tests/registry_api/test_backups.py",
    "tests/registry_api/test_gc.py",
    "tests/registry_api/test_index_push_race.py",
    "tests/registry_api/test_manifests.py",
    "tests/registry_api/test_pulls.py",
    "tests/registry_api/test_rate_limits.py",
    "tests/registry_api/test_s3_blobs_in_place.py",
    "tests/registry_api/test_s3_staging.py",
    "tests/registry_api/test_storage_conformance.py",
    "tests/registry_api/test_tag_restore.py",
    "tests/registry_api/test_tags.py",
    "tests/registry_api/test_usage.py",
    "tests/test_data_at_rest.py",
    "tests/test_manage_database.py",
    "tests/web/test_explore_search_profile.py",
    "tests/web/test_search.py",
    "tests/web/test_search_badges.py",
    "tests/webhooks/",
)


def pytest_collection_modifyitems(config, items):
    for item in items:
        database = item.get_closest_marker("django_db")
        concurrent = database is not None and database.kwargs.get("transaction")
        if concurrent or item.nodeid.startswith(POSTGRES_LAYER):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(autouse=True)
def _isolated_settings(settings, tmp_path):
    storage = dict(settings.STORAGES)
    storage["registry"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "storage")},
    }
    storage["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    settings.STORAGES = storage
    settings.UPLOAD_STAGING_DIR = tmp_path / "uploads"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.MIRROR_ALLOW_PRIVATE_UPSTREAMS = True  # test upstreams run on loopback
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # Fast hashing: tests create many users.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "hub.hashers.HtpasswdBCryptHasher",
    ]
    from django.core.files.storage import storages

    storages._storages.pop("registry", None)
    cache.clear()
    yield
    storages._storages.pop("registry", None)
    cache.clear()


@pytest.fixture
def alice(db):
    return factories.UserFactory(username="alice")


@pytest.fixture
def bob(db):
    return factories.UserFactory(username="bob")


@pytest.fixture
def charlie(db):
    return factories.UserFactory(username="charlie")


@pytest.fixture
def dave(db):
    return factories.UserFactory(username="dave")


@pytest.fixture
def public_repo(alice):
    return factories.RepositoryFactory(namespace=alice.namespace, name="app")


@pytest.fixture
def private_repo(alice, bob):
    repository = factories.RepositoryFactory(
        namespace=alice.namespace, name="secret", is_private=True
    )
    factories.CollaboratorFactory(repository=repository, user=bob, role="write")
    return repository


@pytest.fixture
def acme(alice, dave):
    return factories.OrganizationFactory(name="acme", owners=[alice], members=[dave])


def basic_auth(username: str, password: str = PASSWORD) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
