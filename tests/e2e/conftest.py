"""Session-wide real processes: one Dockyard server per run, shared by the end-to-end tests."""

from __future__ import annotations

import os

import pytest

from tests.conftest import PASSWORD
from tests.e2e.dockerd import dockerd  # noqa: F401 - session fixture for docker CLI tests
from tests.e2e.images import MiB, TestImage, build_image
from tests.e2e.server import Server, drop_throwaway_database, throwaway_database_url


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
    drop_throwaway_database(env["DATABASE_URL"])


def server_env(tmp_path_factory, **extra: str) -> dict:
    """The environment of a second, module-scoped Server (its own throwaway database)."""
    database_url = throwaway_database_url() or (
        f"sqlite:///{tmp_path_factory.mktemp('e2e-db') / 'db.sqlite3'}"
    )
    return {"DATABASE_URL": database_url, "REDIS_URL": "", "CELERY_BROKER_URL": "", **extra}


# Test images: built once per session in one directory, shared by every client test.


@pytest.fixture(scope="session")
def images_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("images")


@pytest.fixture(scope="session")
def app_image(images_dir) -> TestImage:
    """busybox + 50 MiB + 3 MiB of random bytes + a message layer: 4 layers, `run` prints."""
    return build_image(images_dir / "layers", message="hello from dockyard e2e")


@pytest.fixture(scope="session")
def app_archive(app_image, images_dir) -> tuple:
    """(docker-archive path, the repo:tag `docker load` gives it)."""
    repo_tag = "dockyard-test/app:latest"
    return app_image.write_docker_archive(images_dir / "app.tar", repo_tag), repo_tag


@pytest.fixture(scope="session")
def app_oci(app_image, images_dir) -> str:
    """The app image as an OCI layout reference, `oci:DIR:app`."""
    return app_image.write_oci_layout(images_dir / "oci-app", "app")


@pytest.fixture(scope="session")
def platform_images(images_dir) -> list[tuple[TestImage, str]]:
    """Two small images for a multi-arch list (linux/amd64, linux/arm64/v8): (image, oci ref)."""
    result = []
    for seed, (architecture, variant) in enumerate((("amd64", ""), ("arm64", "v8")), start=10):
        image = build_image(
            images_dir / "layers",
            message=f"hello from {architecture}",
            sizes=(1 * MiB,),
            seed=seed,
            architecture=architecture,
            variant=variant,
        )
        ref = image.write_oci_layout(images_dir / f"oci-{architecture}", architecture)
        result.append((image, ref))
    return result


@pytest.fixture(scope="session")
def registry_users(server) -> dict[str, str]:
    """alice (pushes) and mallory (an outsider) on the shared server, password tests.PASSWORD."""
    users = {"alice": PASSWORD, "mallory": PASSWORD}
    for username, password in users.items():
        server.create_user(username, password)
    return users
