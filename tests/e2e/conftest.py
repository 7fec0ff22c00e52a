"""Session-wide real processes: one Dockyard server per run, shared by the end-to-end tests."""

from __future__ import annotations

import os

import pytest

from tests.e2e.dockerd import dockerd  # noqa: F401 - session fixture for docker CLI tests
from tests.e2e.server import Server, throwaway_database_url


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """Dockyard as `make run` starts it, on PostgreSQL and Redis when the run has them."""
    env = {}
    database_url = throwaway_database_url()
    if database_url:
        env["DATABASE_URL"] = database_url
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp_path_factory.mktemp('e2e-db') / 'db.sqlite3'}"
    if os.environ.get("TEST_REDIS_URL"):
        env["REDIS_URL"] = os.environ["TEST_REDIS_URL"].rsplit("/", 1)[0] + "/5"
    instance = Server(tmp_path_factory.mktemp("dockyard"), env=env)
    instance.start()
    yield instance
    instance.stop()
