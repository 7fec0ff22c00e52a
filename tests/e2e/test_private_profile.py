"""REGISTRY_PROFILE=private end to end, as a company's registry:2 + htpasswd replacement: every
read needs credentials (curl -u works, anonymous callers get the 401 challenge, the portal sends
them to sign in), `docker login` + push + pull + search work, and what is pushed is private."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest
import requests

from tests.e2e.conftest import server_env
from tests.e2e.images import MiB, build_image
from tests.e2e.server import Server, drop_throwaway_database

ADMIN_PASSWORD = "private-profile-admin-pw"


@pytest.fixture(scope="module")
def private_server(tmp_path_factory):
    env = server_env(tmp_path_factory, REGISTRY_PROFILE="private")
    instance = Server(tmp_path_factory.mktemp("private-profile"), env=env)
    instance.start()
    try:
        instance.create_user("admin", ADMIN_PASSWORD, superuser=True)
        yield instance
    finally:
        instance.stop()
        drop_throwaway_database(env["DATABASE_URL"])


@pytest.fixture(scope="module")
def small_archive(images_dir):
    image = build_image(
        images_dir / "layers", message="hello from the private profile", sizes=(1 * MiB,), seed=31
    )
    return image, image.write_docker_archive(images_dir / "private.tar", "private-test/app:1")


@pytest.fixture(scope="module")
def admin_docker(dockerd, private_server, tmp_path_factory):
    docker = dockerd.client(tmp_path_factory.mktemp("docker-private-admin"))
    login = docker.cli(
        "login", private_server.address, "-u", "admin", "--password-stdin", input=ADMIN_PASSWORD
    )
    assert "Login Succeeded" in login.stdout
    return docker


def docker_push(docker, archive, reference: str) -> str:
    """Load the test image, tag it `reference`, `docker push` it; return the pushed digest."""
    docker.cli("load", "-i", str(archive))
    docker.cli("tag", "private-test/app:1", reference)
    output = docker.cli("push", reference).stdout
    match = re.search(r": digest: (sha256:[0-9a-f]{64})", output)
    assert match, output
    return match.group(1)


@pytest.fixture(scope="module")
def pushed(admin_docker, private_server, small_archive):
    """admin/app:latest pushed by `docker push`; returns (reference, digest)."""
    reference = f"{private_server.address}/admin/app:latest"
    digest = docker_push(admin_docker, small_archive[1], reference)
    admin_docker.cli("rmi", reference, "private-test/app:1")
    return reference, digest


def _challenged(response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"].startswith("Bearer realm=")


def test_anonymous_reads_are_challenged(private_server, pushed):
    url = private_server.url
    for path in (
        "/v2/",
        "/v2/_catalog",
        "/v2/admin/app/tags/list",
        "/v2/admin/app/manifests/latest",
    ):
        _challenged(requests.get(url + path, timeout=10))
    # The token service hands an anonymous caller nothing to read with.
    token = requests.get(
        f"{url}/auth/token",
        params={
            "service": "dockyard",
            "scope": ["repository:admin/app:pull", "registry:catalog:*"],
        },
        timeout=10,
    ).json()["token"]
    for path in ("/v2/_catalog", "/v2/admin/app/tags/list"):
        _challenged(
            requests.get(url + path, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        )
    assert requests.get(f"{url}/api/v1/repositories/", timeout=10).status_code == 401
    _challenged(requests.get(f"{url}/v1/search", params={"q": "app"}, timeout=10))


def test_anonymous_visitors_are_sent_to_sign_in(private_server):
    home = requests.get(private_server.url + "/", allow_redirects=False, timeout=10)
    assert home.status_code == 302
    assert urlsplit(home.headers["Location"]).path == "/accounts/login/"
    assert requests.get(private_server.url + "/accounts/login/", timeout=10).status_code == 200


def test_curl_with_basic_credentials_reads(private_server, pushed):
    auth = ("admin", ADMIN_PASSWORD)
    catalog = requests.get(f"{private_server.url}/v2/_catalog", auth=auth, timeout=10)
    assert catalog.status_code == 200 and "admin/app" in catalog.json()["repositories"]
    tags = requests.get(f"{private_server.url}/v2/admin/app/tags/list", auth=auth, timeout=10)
    assert tags.json() == {"name": "admin/app", "tags": ["latest"]}


def test_pushed_repository_is_private_by_default(private_server, pushed):
    detail = requests.get(
        f"{private_server.url}/api/v1/repositories/admin/app/",
        auth=("admin", ADMIN_PASSWORD),
        timeout=10,
    )
    assert detail.status_code == 200 and detail.json()["is_private"] is True


def test_admin_pulls_and_anonymous_docker_cannot(
    admin_docker, dockerd, private_server, pushed, small_archive, tmp_path
):
    reference, digest = pushed
    image, _ = small_archive
    assert digest in admin_docker.cli("pull", reference).stdout
    inspected = admin_docker.cli("image", "inspect", "--format", "{{.Id}}", reference).stdout
    assert inspected.strip() == image.image_id
    admin_docker.cli("rmi", reference)

    anonymous = dockerd.client(tmp_path / "anonymous")
    refused = anonymous.cli("pull", reference, check=False)
    assert refused.returncode != 0
    assert "denied" in refused.stderr.lower() or "unauthorized" in refused.stderr.lower()


def test_docker_search_after_login(admin_docker, dockerd, private_server, pushed, tmp_path):
    found = admin_docker.cli("search", "--format", "{{.Name}}", f"{private_server.address}/app")
    assert "admin/app" in found.stdout.split()
    anonymous = dockerd.client(tmp_path / "anonymous")
    refused = anonymous.cli("search", f"{private_server.address}/app", check=False)
    assert refused.returncode != 0 and "admin/app" not in refused.stdout


# The "done when", in the order of the README's registry:2 walkthrough.


@pytest.fixture(scope="module")
def centos_pushed(admin_docker, private_server, small_archive):
    """`docker push HOST:PORT/centos:latest` by the administrator; returns the digest."""
    return docker_push(admin_docker, small_archive[1], f"{private_server.address}/centos:latest")


def test_walkthrough_push_centos_then_list_it_with_curl(private_server, centos_pushed):
    url, auth = private_server.url, ("admin", ADMIN_PASSWORD)
    catalog = requests.get(f"{url}/v2/_catalog", auth=auth, timeout=10)
    assert "centos" in catalog.json()["repositories"]
    tags = requests.get(f"{url}/v2/centos/tags/list", auth=auth, timeout=10)
    assert tags.status_code == 200 and tags.json() == {"name": "centos", "tags": ["latest"]}
    for path in ("/v2/_catalog", "/v2/centos/tags/list"):
        _challenged(requests.get(url + path, timeout=10))


def test_walkthrough_sign_up_is_closed(private_server):
    page = requests.get(f"{private_server.url}/accounts/signup/", timeout=10)
    assert page.status_code == 403 and "Sign-up is closed" in page.text
    session = requests.Session()
    session.get(f"{private_server.url}/accounts/signup/", timeout=10)
    session.post(
        f"{private_server.url}/accounts/signup/",
        data={
            "csrfmiddlewaretoken": session.cookies.get("csrftoken", ""),
            "username": "walkin",
            "email": "walkin@example.com",
            "password1": "a-long-unusual-phrase",
            "password2": "a-long-unusual-phrase",
        },
        headers={"Referer": f"{private_server.url}/accounts/signup/"},
        timeout=10,
    )
    created = private_server.python(
        "from hub.models import User; print(User.objects.filter(username='walkin').exists())"
    )
    assert created.strip().endswith("False")


def test_walkthrough_a_non_member_push_is_denied_at_once_naming_their_namespace(
    dockerd, private_server, centos_pushed, small_archive, tmp_path
):
    private_server.create_user("bob", "bob-has-a-long-password")
    dockerd.cli("load", "-i", str(small_archive[1]))
    bob = dockerd.client(tmp_path / "docker-bob")
    bob.cli(
        "login",
        private_server.address,
        "-u",
        "bob",
        "--password-stdin",
        input="bob-has-a-long-password",
    )
    reference = f"{private_server.address}/centos:bob"
    bob.cli("tag", "private-test/app:1", reference)
    started = time.monotonic()
    result = bob.cli("push", reference, check=False, timeout=120)
    elapsed = time.monotonic() - started
    assert result.returncode != 0
    assert "denied" in result.stderr and "bob/centos" in result.stderr, result.stderr
    assert elapsed < 5, (elapsed, result.stderr)
