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
