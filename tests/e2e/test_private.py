"""A private repository looks absent to anyone who may not see it: docker pull fails with the same
words, the registry answers with the same status and body, and the catalog leaves it out."""

from __future__ import annotations

import re

import pytest
import requests

from tests.e2e.tools import Skopeo, registry_token


@pytest.fixture(scope="module")
def secret(server, registry_users, platform_images, tmp_path_factory):
    """alice/secret (private) holding one image at tag 1, pushed by alice with skopeo."""
    server.python(
        "from hub.models import Namespace\n"
        "from hub.services.repositories import repository_create\n"
        "ns = Namespace.objects.get(name='alice')\n"
        "if not ns.repositories.filter(name='secret').exists():\n"
        "    repository_create(namespace=ns, name='secret', is_private=True)\n"
    )
    _, oci_ref = platform_images[0]
    skopeo = Skopeo(tmp_path_factory.mktemp("skopeo-private"))
    skopeo(
        "copy",
        "--dest-tls-verify=false",
        "--dest-creds",
        f"alice:{registry_users['alice']}",
        oci_ref,
        f"docker://{server.address}/alice/secret:1",
    )
    return "alice/secret"


def _pull_error(client, reference: str) -> str:
    result = client.cli("pull", reference, check=False)
    assert result.returncode != 0, result.stdout
    return result.stderr.strip()


@pytest.mark.parametrize("who", ["anonymous", "outsider"])
def test_docker_pull_of_a_private_repository_fails_like_an_absent_one(
    dockerd, server, secret, registry_users, who, tmp_path
):
    client = dockerd.client(tmp_path / who)
    if who == "outsider":
        client.cli(
            "login",
            server.address,
            "-u",
            "mallory",
            "--password-stdin",
            input=registry_users["mallory"],
        )
    private = _pull_error(client, f"{server.address}/alice/secret:1")
    absent = _pull_error(client, f"{server.address}/alice/absent:1")
    assert private  # docker said why
    assert private.replace("alice/secret", "alice/absent") == absent


@pytest.mark.parametrize("who", ["anonymous", "outsider"])
def test_registry_answers_for_a_private_repository_as_for_an_absent_one(
    server, secret, registry_users, who
):
    auth = ("mallory", registry_users["mallory"]) if who == "outsider" else None

    def answers(name: str):
        token = registry_token(server.url, f"repository:{name}:pull", auth=auth)
        headers = {"Authorization": f"Bearer {token}"}
        for path in ("manifests/1", "tags/list"):
            answer = requests.get(f"{server.url}/v2/{name}/{path}", headers=headers, timeout=30)
            yield answer.status_code, answer.content.replace(name.encode(), b"NAME")

    assert list(answers("alice/secret")) == list(answers("alice/absent"))


def test_catalog_lists_a_private_repository_only_to_who_may_see_it(server, secret, registry_users):
    def catalog(auth) -> list[str]:
        token = registry_token(server.url, "registry:catalog:*", auth=auth)
        answer = requests.get(
            f"{server.url}/v2/_catalog?n=1000",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["repositories"]

    assert secret in catalog(("alice", registry_users["alice"]))
    assert secret not in catalog(("mallory", registry_users["mallory"]))
    assert secret not in catalog(None)


def test_an_outsiders_push_to_a_private_repository_fails_like_one_to_an_absent_name(
    server, secret, registry_users, platform_images, tmp_path
):
    _, oci_ref = platform_images[0]
    skopeo = Skopeo(tmp_path / "skopeo-outsider")

    def push_error(name: str) -> str:
        result = skopeo(
            "copy",
            "--dest-tls-verify=false",
            "--dest-creds",
            f"mallory:{registry_users['mallory']}",
            oci_ref,
            f"docker://{server.address}/{name}:2",
            check=False,
        )
        assert result.returncode != 0, result.stdout
        # Without skopeo's timestamp, which may differ by a second between the two.
        return re.sub(r'time="[^"]*" ', "", result.stderr.strip()).replace(name, "NAME")

    # skopeo first asks whether the blob is there (HEAD, a pull): refused as for an absent name.
    private = push_error("alice/secret")
    assert "denied" in private
    assert private == push_error("alice/absent")
