"""The issue's "done when" for tag history: with the real docker engine, push image A as
`:app`, push image B as `:app`, restore `:app` to A's digest through the REST API, and
`docker pull :app` gives A again (and runs it)."""

from __future__ import annotations

import re

import pytest
import requests

from tests.conftest import PASSWORD
from tests.e2e.images import build_image
from tests.e2e.tools import registry_token


@pytest.fixture(scope="module")
def docker(dockerd, server, registry_users, tmp_path_factory):
    client = dockerd.client(tmp_path_factory.mktemp("docker-restore"))
    client.cli("login", server.address, "-u", "alice", "--password-stdin", input=PASSWORD)
    return client


def _push(
    docker, server, images_dir, *, message: str, seed: int, tag: str = "app"
) -> tuple[str, str]:
    """Build, load and push a small image as alice/timemachine:<tag>; return (digest, message)."""
    image = build_image(images_dir / "layers", message=message, sizes=(256 * 1024,), seed=seed)
    loaded = f"dockyard-test/timemachine-{seed}:latest"
    docker.cli("load", "-i", str(image.write_docker_archive(images_dir / f"tm-{seed}.tar", loaded)))
    reference = f"{server.address}/alice/timemachine:{tag}"
    docker.cli("tag", loaded, reference)
    output = docker.cli("push", reference).stdout
    match = re.search(rf"{tag}: digest: (sha256:[0-9a-f]{{64}})", output)
    assert match, output
    docker.cli("rmi", reference, loaded)
    return match.group(1), message


def test_restore_app_to_an_earlier_digest_then_pull_it(docker, server, images_dir):
    first, first_message = _push(docker, server, images_dir, message="image A", seed=41)
    second, _ = _push(docker, server, images_dir, message="image B", seed=42)
    assert first != second
    api = f"{server.url}/api/v1/repositories/alice/timemachine/tags/app"
    auth = ("alice", PASSWORD)

    history = requests.get(f"{api}/history/", auth=auth, timeout=30)
    assert history.status_code == 200, history.text
    rows = history.json()["results"]
    assert [(row["action"], row["to_digest"], row["restorable"]) for row in rows] == [
        ("push", second, False),
        ("push", first, True),
    ]

    restored = requests.post(f"{api}/restore/", json={"digest": first}, auth=auth, timeout=30)
    assert restored.status_code == 201, restored.text
    assert restored.json()["digest"] == first

    reference = f"{server.address}/alice/timemachine:app"
    output = docker.cli("pull", reference).stdout
    assert f"Digest: {first}" in output, output
    assert docker.cli("run", "--rm", "--network", "none", reference).stdout == first_message + "\n"
    docker.cli("rmi", reference)
    top = requests.get(f"{api}/history/", auth=auth, timeout=30).json()["results"][0]
    assert (top["action"], top["from_digest"], top["to_digest"], top["actor"]) == (
        "restore",
        second,
        first,
        "alice",
    )


def test_a_deleted_manifest_is_restored_and_pulled(docker, server, images_dir):
    digest, message = _push(docker, server, images_dir, message="image C", seed=43, tag="gone")
    token = registry_token(
        server.url, "repository:alice/timemachine:delete", auth=("alice", PASSWORD)
    )
    deleted = requests.delete(
        f"{server.url}/v2/alice/timemachine/manifests/{digest}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert deleted.status_code == 202, deleted.text
    reference = f"{server.address}/alice/timemachine:gone"
    assert docker.cli("pull", reference, check=False).returncode != 0

    restored = requests.post(
        f"{server.url}/api/v1/repositories/alice/timemachine/tags/gone/restore/",
        json={"digest": digest},
        auth=("alice", PASSWORD),
        timeout=30,
    )
    assert restored.status_code == 201, restored.text

    assert f"Digest: {digest}" in docker.cli("pull", reference).stdout
    assert docker.cli("run", "--rm", "--network", "none", reference).stdout == message + "\n"
    docker.cli("rmi", reference)


def test_restore_button_in_a_browser_under_the_csp(docker, server, images_dir):
    """The Restore button (a POST form with a confirmation from site.js) works in Chromium
    without a Content-Security-Policy violation."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS, csp_violations, sign_in

    first, _ = _push(docker, server, images_dir, message="web A", seed=44, tag="web")
    second, _ = _push(docker, server, images_dir, message="web B", seed=45, tag="web")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context().new_page()
        page.set_default_timeout(15000)
        violations = csp_violations(page)
        sign_in(page, server, "alice", PASSWORD)
        page.goto(server.url + "/r/alice/timemachine/-/tags/web/")
        page.get_by_role("link", name="History").click()
        page.wait_for_url("**/tags/web/history/")
        dialogs = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
        page.get_by_role("button", name="Restore").click()
        page.wait_for_url("**/tags/web/")
        assert first in page.content()
        browser.close()
    assert dialogs and "web" in dialogs[0]
    assert violations == []
    tag = requests.get(
        f"{server.url}/api/v1/repositories/alice/timemachine/tags/web/",
        auth=("alice", PASSWORD),
        timeout=30,
    ).json()
    assert tag["digest"] == first != second
