"""GET /api/v1/repositories/{namespace}/{name}/compare/?from=&to=: layers, config, packages."""

from __future__ import annotations

import pytest

from registry_api.selectors.compare import image_compare
from tests.api.conftest import API
from tests.web.conftest import image_create, index_create


def _config(**settings) -> dict:
    return {"architecture": "amd64", "os": "linux", "config": settings, "history": []}


@pytest.fixture
def two_tags(public_repo, alice):
    """v1 and v2 share a base layer; v2 swaps the top layer and changes its settings."""
    image_create(
        public_repo,
        "v1",
        layers=(b"base layer", b"old top"),
        config=_config(
            Env=["PATH=/usr/bin", "MODE=old", "GONE=1"],
            Cmd=["serve"],
            WorkingDir="/srv",
            Labels={"team": "a", "stale": "x"},
            ExposedPorts={"80/tcp": {}},
            Volumes={"/data": {}},
        ),
    )
    image_create(
        public_repo,
        "v2",
        layers=(b"base layer", b"the new top layer"),
        config=_config(
            Env=["PATH=/usr/bin", "MODE=new", "ADDED=yes"],
            Cmd=["serve", "--fast"],
            WorkingDir="/srv",
            User="app",
            Labels={"team": "b", "fresh": "y"},
            ExposedPorts={"80/tcp": {}, "443/tcp": {}},
        ),
    )
    return public_repo


def _url(repository) -> str:
    return f"{API}/repositories/{repository.full_name}/compare/"


def test_compare_two_tags_lists_shared_added_and_removed_layers(api, two_tags):
    answer = api.get(_url(two_tags), {"from": "v1", "to": "v2"})
    assert answer.status_code == 200, answer.content
    layers = answer.json()["layers"]
    assert [layer["size"] for layer in layers["shared"]] == [len(b"base layer")]
    assert [layer["size"] for layer in layers["added"]] == [len(b"the new top layer")]
    assert [layer["size"] for layer in layers["removed"]] == [len(b"old top")]
    body = answer.json()
    assert layers["size_delta"] == body["to"]["size"] - body["from"]["size"]
    assert body["from"]["reference"] == "v1" and body["to"]["platform"] == "linux/amd64"


def test_compare_reports_config_changes(api, two_tags):
    config = api.get(_url(two_tags), {"from": "v1", "to": "v2"}).json()["config"]
    assert config["env"] == {
        "added": {"ADDED": "yes"},
        "removed": {"GONE": "1"},
        "changed": {"MODE": {"from": "old", "to": "new"}},
    }
    assert config["labels"]["changed"] == {"team": {"from": "a", "to": "b"}}
    assert config["labels"]["added"] == {"fresh": "y"} and config["labels"]["removed"] == {
        "stale": "x"
    }
    assert config["exposed_ports"] == {"added": ["443/tcp"], "removed": []}
    assert config["volumes"] == {"added": [], "removed": ["/data"]}
    assert config["cmd"] == {"from": ["serve"], "to": ["serve", "--fast"], "changed": True}
    assert config["entrypoint"]["changed"] is False
    assert config["workdir"]["changed"] is False
    assert config["user"] == {"from": "", "to": "app", "changed": True}


def test_compare_by_digest_works_like_by_tag(api, two_tags):
    digest = two_tags.tags.get(name="v1").manifest.digest
    answer = api.get(_url(two_tags), {"from": digest, "to": "v2"})
    assert answer.status_code == 200
    assert answer.json()["from"]["digest"] == digest


def test_packages_are_null_without_package_data(api, two_tags):
    assert api.get(_url(two_tags), {"from": "v1", "to": "v2"}).json()["packages"] is None


def test_a_package_source_fills_the_package_diff(two_tags):
    versions = {
        two_tags.tags.get(name="v1").manifest.digest: {"openssl": "3.0.1", "zlib": "1.2"},
        two_tags.tags.get(name="v2").manifest.digest: {"openssl": "3.0.7", "curl": "8.5"},
    }
    comparison = image_compare(
        repository=two_tags,
        from_ref="v1",
        to_ref="v2",
        packages=lambda manifest: versions.get(manifest.digest),
    )
    assert comparison["packages"] == {
        "added": {"curl": "8.5"},
        "removed": {"zlib": "1.2"},
        "changed": {"openssl": {"from": "3.0.1", "to": "3.0.7"}},
    }


def test_an_index_is_compared_on_linux_amd64_by_default(api, public_repo):
    index_create(public_repo, "multi")
    image_create(public_repo, "single", config=_config(Cmd=["sh"]), layers=(b"amd64" * 10,))
    answer = api.get(_url(public_repo), {"from": "multi", "to": "single"})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["platform"] == "linux/amd64"
    assert body["platforms"] == ["linux/amd64", "linux/arm64/v8"]
    assert len(body["layers"]["shared"]) == 1 and not body["layers"]["added"]


def test_an_index_platform_can_be_chosen(api, public_repo):
    index_create(public_repo, "multi")
    answer = api.get(
        _url(public_repo), {"from": "multi", "to": "multi", "platform": "linux/arm64/v8"}
    )
    assert answer.status_code == 200
    assert answer.json()["from"]["platform"] == "linux/arm64/v8"


@pytest.mark.parametrize(
    "query",
    [
        {"from": "v1", "to": "nope"},
        {"from": "bad tag!", "to": "v1"},
        {"from": "sha256:" + "0" * 64, "to": "v1"},
        {"from": "sha256:short", "to": "v1"},
        {"from": "x" * 500, "to": "v1"},
        {"from": "v1"},
        {"from": "v1", "to": "v2", "platform": "windows/amd64"},
        {"from": "v1", "to": "v2", "platform": "no platform"},
        {"from": "v1\x00", "to": "v2"},
    ],
)
def test_unknown_or_malformed_references_are_a_400(api, two_tags, query):
    index_create(two_tags, "multi")
    if "platform" in query:
        query = {**query, "from": "multi"}
    answer = api.get(_url(two_tags), query)
    assert answer.status_code == 400, answer.content
    assert isinstance(answer.json(), dict)


def test_outsider_cannot_compare_tags_of_a_private_repository(as_user, charlie, private_repo, api):
    image_create(private_repo, "v1")
    image_create(private_repo, "v2", layers=(b"other",))
    absent = f"{API}/repositories/alice/absent/compare/"
    for client in (as_user(charlie), api):
        hidden = client.get(_url(private_repo), {"from": "v1", "to": "v2"})
        missing = client.get(absent, {"from": "v1", "to": "v2"})
        assert hidden.status_code == missing.status_code
        assert hidden.content == missing.content
        assert hidden.status_code in (401, 404)
    assert as_user(charlie).get(_url(private_repo), {"from": "v1", "to": "v2"}).status_code == 404


def test_collaborator_compares_tags_of_a_private_repository(as_user, bob, private_repo):
    image_create(private_repo, "v1")
    image_create(private_repo, "v2", layers=(b"other",))
    assert as_user(bob).get(_url(private_repo), {"from": "v1", "to": "v2"}).status_code == 200


def test_a_lone_image_is_compared_with_the_index_image_of_its_platform(api, public_repo):
    index_create(public_repo, "multi")
    arm = {"architecture": "arm64", "variant": "v8", "os": "linux", "config": {"Cmd": ["arm"]}}
    image_create(public_repo, "arm", config=arm, layers=(b"arm64" * 10,))
    body = api.get(_url(public_repo), {"from": "multi", "to": "arm"}).json()
    assert body["platform"] == "linux/arm64/v8"
    assert len(body["layers"]["shared"]) == 1
    assert body["by_platform"] == []  # only for two indexes


def test_two_indexes_get_a_summary_per_platform(api, public_repo):
    index_create(public_repo, "multi")
    body = api.get(_url(public_repo), {"from": "multi", "to": "multi"}).json()
    assert [row["platform"] for row in body["by_platform"]] == ["linux/amd64", "linux/arm64/v8"]
    assert all(
        row["added"] == row["removed"] == row["size_delta"] == 0 for row in body["by_platform"]
    )
