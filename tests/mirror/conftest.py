"""Upstreams for the mirror tests (a reference registry, with and without htpasswd, and a fake
one that misbehaves on purpose) and small test images built offline."""

from __future__ import annotations

import pytest

from registry_api.models import ProxyCache
from tests.e2e.images import MiB, build_image
from tests.mirror.fake_upstream import FakeUpstream
from tests.mirror.upstream import ReferenceRegistry

UPSTREAM_USER = ("mirror-bot", "upstream-secret")


@pytest.fixture(scope="session")
def image_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("mirror-images")


@pytest.fixture(scope="session")
def image_one(image_dir):
    return build_image(image_dir, message="one", sizes=(256 * 1024,), seed=11)


@pytest.fixture(scope="session")
def image_two(image_dir):
    return build_image(image_dir, message="two", sizes=(MiB,), seed=12)


@pytest.fixture(scope="session")
def upstream(tmp_path_factory):
    registry = ReferenceRegistry(tmp_path_factory.mktemp("upstream")).start()
    yield registry
    registry.stop()


@pytest.fixture(scope="session")
def upstream_basic(tmp_path_factory):
    registry = ReferenceRegistry(
        tmp_path_factory.mktemp("upstream-basic"), credentials=UPSTREAM_USER
    ).start()
    yield registry
    registry.stop()


@pytest.fixture
def fake_upstream():
    server = FakeUpstream().start()
    yield server
    server.stop()


@pytest.fixture
def hub_cache(upstream, db):
    """`hub/<name>` is `<name>` on the reference registry."""
    return ProxyCache.objects.create(namespace="hub", upstream_url=upstream.url)


@pytest.fixture
def fake_cache(fake_upstream, db):
    return ProxyCache.objects.create(namespace="fake", upstream_url=fake_upstream.url)
