"""import_registry on small registry:2 trees written by hand in tmp_path, in Distribution's layout.

The end-to-end test (tests/e2e/test_import_registry.py) imports a tree the real docker-registry
wrote; these cover the cases that are hard to make a real registry produce (corrupt blobs,
broken links) and the command's options and output.
"""

from __future__ import annotations

import json
import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from hub.models import Organization, Repository
from registry_api import storage
from registry_api.digests import digest_bytes
from registry_api.models import Blob, Manifest, ProxyCache, RepositoryBlob, Tag
from registry_api.selectors.manifests import referrer_descriptors
from tests.registry_api.conftest import bearer, pull_access
from webhooks.models import Event

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


class Registry2Tree:
    """Writes blobs, links and tags as registry:2's filesystem driver lays them out."""

    def __init__(self, root: Path):
        self.root = root  # the data directory, like /var/lib/registry
        self.v2 = root / "docker" / "registry" / "v2"

    def blob_path(self, digest: str) -> Path:
        hex_digest = digest.split(":", 1)[1]
        return self.v2 / "blobs" / "sha256" / hex_digest[:2] / hex_digest / "data"

    def blob(self, data: bytes) -> str:
        digest = digest_bytes(data)
        path = self.blob_path(digest)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return digest

    def _link(self, path: Path, digest: str) -> None:
        path.mkdir(parents=True, exist_ok=True)
        (path / "link").write_text(digest)

    def _repo(self, name: str) -> Path:
        return self.v2 / "repositories" / name

    def layer(self, repo: str, data: bytes) -> dict:
        digest = self.blob(data)
        self._link(self._repo(repo) / "_layers" / "sha256" / digest.split(":")[1], digest)
        return {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest,
                "size": len(data)}  # fmt: skip

    def manifest(self, repo: str, document: dict, tag: str = "") -> str:
        body = json.dumps(document).encode()
        digest = self.blob(body)
        revisions = self._repo(repo) / "_manifests" / "revisions" / "sha256"
        self._link(revisions / digest.split(":")[1], digest)
        if tag:
            self.tag(repo, tag, digest)
        return digest

    def tag(self, repo: str, tag: str, digest: str) -> None:
        self._link(self._repo(repo) / "_manifests" / "tags" / tag / "current", digest)

    def image(self, repo: str, tag: str = "", *, layer: bytes, arch: str = "amd64") -> str:
        config = self.layer(repo, json.dumps({"architecture": arch, "os": "linux"}).encode())
        config["mediaType"] = "application/vnd.oci.image.config.v1+json"
        document = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config,
                    "layers": [self.layer(repo, layer)]}  # fmt: skip
        return self.manifest(repo, document, tag)

    def index(self, repo: str, tag: str, children: list[tuple[str, str]]) -> str:
        manifests = []
        for digest, arch in children:
            size = self.blob_path(digest).stat().st_size
            manifests.append({"mediaType": OCI_MANIFEST, "digest": digest, "size": size,
                              "platform": {"architecture": arch, "os": "linux"}})  # fmt: skip
        return self.manifest(repo, {"schemaVersion": 2, "mediaType": OCI_INDEX,
                                    "manifests": manifests}, tag)  # fmt: skip

    def artifact(self, repo: str, subject: str) -> str:
        empty = self.layer(repo, b"{}")
        empty["mediaType"] = "application/vnd.oci.empty.v1+json"
        document = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": "application/vnd.example.sbom",
            "config": empty,
            "layers": [self.layer(repo, b"an sbom")],
            "subject": {"mediaType": OCI_MANIFEST, "digest": subject,
                        "size": self.blob_path(subject).stat().st_size},
        }  # fmt: skip
        return self.manifest(repo, document)


@pytest.fixture
def tree(tmp_path) -> Registry2Tree:
    return Registry2Tree(tmp_path / "registry")


@pytest.fixture
def sample(tree) -> dict:
    """centos:latest, team/app:1.0 = :stable, team/app:multi (an index of two platforms, whose
    children are untagged) and an untagged artifact whose subject is team/app:1.0."""
    digests = {"centos": tree.image("centos", "latest", layer=b"centos rootfs")}
    app = tree.image("team/app", "1.0", layer=b"app rootfs")
    tree.tag("team/app", "stable", app)
    amd = tree.image("team/app", layer=b"amd64 rootfs", arch="amd64")
    arm = tree.image("team/app", layer=b"arm64 rootfs", arch="arm64")
    digests.update(
        app=app,
        index=tree.index("team/app", "multi", [(amd, "amd64"), (arm, "arm64")]),
        artifact=tree.artifact("team/app", app),
    )
    return digests


def run(*args, **kwargs) -> str:
    out, err = StringIO(), StringIO()
    try:
        call_command("import_registry", *map(str, args), stdout=out, stderr=err, **kwargs)
    finally:
        run.err = err.getvalue()
    return out.getvalue()


def _counts() -> dict:
    return {
        model.__name__: model.objects.count()
        for model in (Repository, Manifest, Tag, Blob, RepositoryBlob, Organization)
    }


def _stored_blobs() -> set[str]:
    return set(storage.blobs().digests())


def test_import_brings_every_repository_tag_manifest_and_blob(tree, sample, alice, client):
    output = run(tree.root, "--owner", "alice")
    centos = Repository.objects.get(namespace__name="library", name="centos")
    app = Repository.objects.get(namespace__name="team", name="app")
    assert Organization.objects.get(name="team").membership_set.get().user == alice
    assert dict(centos.tags.values_list("name", "manifest__digest")) == {"latest": sample["centos"]}
    assert dict(app.tags.values_list("name", "manifest__digest")) == {
        "1.0": sample["app"], "stable": sample["app"], "multi": sample["index"]
    }  # fmt: skip
    assert app.manifests.count() == 5  # the image, two platform children, the index, the artifact
    index = app.manifests.get(digest=sample["index"])
    assert index.children.count() == 2
    assert index.total_size == sum(child.total_size for child in index.children.all()) > 0
    assert [d["digest"] for d in referrer_descriptors(repository=app, subject=sample["app"])] == [
        sample["artifact"]
    ]
    # Every blob a manifest references is stored and linked, as a push leaves it.
    for manifest in Manifest.objects.filter(children__isnull=True):
        for blob in manifest.blobs.all():
            assert RepositoryBlob.objects.filter(repository=manifest.repository, blob=blob)
            assert storage.blobs().exists(blob.digest)
    # Imported tags publish nothing (no push storm); the pulled bytes are the registry:2 bytes.
    assert not Event.objects.filter(action="push").exists()
    answer = client.get(
        "/v2/team/app/manifests/1.0",
        HTTP_ACCEPT=OCI_MANIFEST,
        **bearer("alice", pull_access("team/app")),
    )
    assert answer.status_code == 200
    assert answer["Docker-Content-Digest"] == sample["app"]
    assert answer.content == tree.blob_path(sample["app"]).read_bytes()
    assert "centos -> library/centos (create)" in output
    assert "Webhooks: imported tags send no push events" in output


def test_progress_shows_one_line_per_repository_and_a_summary(tree, sample, alice):
    output = run(tree.root, "--owner", "alice")
    lines = output.splitlines()
    progress = [line for line in lines if line.startswith("[")]
    assert len(progress) == 2
    assert progress[0].startswith("[1/2] centos -> library/centos (create): 1 tag (1 new")
    assert "1 manifest (1 new)" in progress[0] and "2 blobs (2 copied)" in progress[0]
    assert progress[1].startswith("[2/2] team/app (create): 3 tags (3 new, 0 moved), 5 manifests")
    copied = sum(Blob.objects.values_list("size", flat=True))
    totals = [int(n) for n in re.findall(r"total (\d+) B", output)]
    assert totals[-1] == copied and totals[0] < totals[-1]  # a running total
    summary = next(line for line in lines if line.startswith("Imported:"))
    assert "2 repositories, 4 tags, 6 manifests" in summary
    assert f"{RepositoryBlob.objects.count()} blobs" in summary and "0 errors" in summary
    assert "skipped 1 already present" in summary  # both repositories hold one config blob


def test_a_second_run_changes_nothing_and_a_moved_tag_is_moved(tree, sample, alice):
    run(tree.root, "--owner", "alice")
    before, stored = _counts(), _stored_blobs()
    tags_before = dict(Tag.objects.values_list("pk", "pushed_at"))
    output = run(tree.root, "--owner", "alice")
    assert _counts() == before and _stored_blobs() == stored
    assert dict(Tag.objects.values_list("pk", "pushed_at")) == tags_before
    assert "0 copied" in output and "(create)" not in output
    assert "skipped 19 already present" in output  # 4 tags + 6 manifests + 9 blobs
    # registry:2 moved a tag since: the next run moves it too, and says so.
    tree.tag("team/app", "stable", sample["index"])
    output = run(tree.root)
    assert f"tag stable moved from {sample['app']} to {sample['index']}" in output
    stable = Tag.objects.get(name="stable")
    assert stable.manifest.digest == sample["index"]
    assert _counts() == before


def test_dry_run_writes_nothing_and_says_what_would_happen(tree, sample, alice):
    before = _counts()
    output = run(tree.root, "--owner", "alice", "--dry-run")
    assert _counts() == before and not _stored_blobs()
    assert "would create organization team owned by alice" in output
    assert "[2/2] team/app (would create): 3 tags (3 new, 0 moved), 5 manifests (5 new)" in output
    assert "Dry run: 2 repositories" in output and "B to copy;" in output
    # What the dry run announced is what the import then does.
    real = run(tree.root, "--owner", "alice")
    announced = [line.replace("would ", "") for line in output.splitlines() if line[0] == "["]
    assert announced == [line for line in real.splitlines() if line[0] == "["]


def test_namespace_option_puts_everything_under_one_existing_namespace(tree, sample, acme):
    output = run(tree.root, "--namespace", "acme")
    names = set(Repository.objects.values_list("namespace__name", "name"))
    assert names == {("acme", "centos"), ("acme", "team/app")}
    assert "centos -> acme/centos" in output and "team/app -> acme/team/app" in output
    assert not Organization.objects.filter(name="team").exists()


def test_missing_namespaces_need_an_owner_and_nothing_is_written(tree, sample, db):
    with pytest.raises(CommandError, match="these namespaces do not exist: team.*--owner"):
        run(tree.root)
    with pytest.raises(CommandError, match="do not exist: newco"):
        run(tree.root, "--namespace", "newco")
    with pytest.raises(CommandError, match="--owner 'nobody': no active user"):
        run(tree.root, "--owner", "nobody")
    assert not Repository.objects.exists() and not _stored_blobs()


def test_a_corrupt_blob_is_refused_reported_and_the_rest_imported(tree, sample, alice):
    centos = json.loads(tree.blob_path(sample["centos"]).read_bytes())
    layer = centos["layers"][0]["digest"]
    tree.blob_path(layer).write_bytes(b"centos rootfs, bit-rotted")
    with pytest.raises(CommandError, match="3 errors"):
        run(tree.root, "--owner", "alice")
    assert f"blob {layer} is corrupt" in run.err and "hashes to sha256:" in run.err
    assert f"manifest {sample['centos']}" in run.err  # it needs the refused layer
    assert f"tag latest points at {sample['centos']}, which was not imported" in run.err
    assert not storage.blobs().exists(layer) and not Blob.objects.filter(digest=layer).exists()
    assert not Tag.objects.filter(repository__name="centos").exists()
    assert Tag.objects.filter(repository__name="app").count() == 3
    # Repaired at the source, the next run completes the import.
    tree.blob_path(layer).write_bytes(b"centos rootfs")
    output = run(tree.root)
    assert "0 errors" in output
    assert Tag.objects.get(repository__name="centos").manifest.digest == sample["centos"]


def test_broken_links_and_missing_blobs_are_reported_not_raised(tree, sample, alice):
    tag_link = tree.v2 / "repositories/centos/_manifests/tags/latest/current/link"
    tag_link.write_text("not a digest")
    app = json.loads(tree.blob_path(sample["app"]).read_bytes())
    missing = app["layers"][0]["digest"]
    tree.blob_path(missing).unlink()
    with pytest.raises(CommandError, match="errors"):
        run(tree.root, "--owner", "alice")
    assert f"{tag_link} does not hold a digest (found 'not a digest')" in run.err
    assert f"blob {missing} has no data file" in run.err
    assert "Traceback" not in run.err


@pytest.mark.parametrize("given", ["data dir", "v2 dir"])
def test_the_root_may_be_the_data_directory_or_the_v2_directory(tree, sample, alice, given):
    run(tree.root if given == "data dir" else tree.v2, "--owner", "alice")
    assert Repository.objects.count() == 2


def test_a_directory_that_is_no_registry_is_refused(tmp_path, db):
    with pytest.raises(CommandError, match="is not a registry:2 storage directory"):
        run(tmp_path)
    with pytest.raises(CommandError, match="is not a directory"):
        run(tmp_path / "absent")


def test_import_into_s3_streams_through_the_same_storage_seam(
    tree, sample, alice, s3_registry_storage
):
    run(tree.root, "--owner", "alice")
    store = storage.blobs()
    digests = set(Blob.objects.values_list("digest", flat=True))
    assert digests and all(store.exists(digest) for digest in digests)
    layer = json.loads(tree.blob_path(sample["centos"]).read_bytes())["layers"][0]["digest"]
    assert b"".join(store.chunks(layer)) == tree.blob_path(layer).read_bytes()


def test_a_large_blob_is_copied_in_constant_memory(tree, alice):
    import tracemalloc

    big = bytes(range(256)) * (24 * 1024 * 1024 // 256)  # 24 MiB
    digest = tree.image("big", "1", layer=big)
    del big
    tracemalloc.start()
    try:
        run(tree.root)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024, peak  # a few 1 MiB chunks, never the blob
    assert Tag.objects.get(name="1").manifest.digest == digest
    assert Blob.objects.filter(size=24 * 1024 * 1024).exists()


def test_imported_repositories_follow_default_visibility(tree, sample, alice, settings):
    settings.DEFAULT_VISIBILITY = "private"
    run(tree.root, "--owner", "alice")
    assert set(Repository.objects.values_list("is_private", flat=True)) == {True}


def test_two_sources_that_would_become_one_repository_are_refused(tree, sample, alice):
    tree.image("library/centos", "other", layer=b"another centos")
    with pytest.raises(CommandError, match="centos and library/centos -> library/centos"):
        run(tree.root, "--owner", "alice")
    assert not Repository.objects.exists()
    run(tree.root, "--owner", "alice", "--namespace", "alice")  # apart, they import
    assert {"centos", "library/centos"} <= set(Repository.objects.values_list("name", flat=True))


def test_a_schema1_manifest_is_reported_with_what_to_do(tree, alice):
    digest = tree.manifest("old", {"schemaVersion": 1, "name": "old", "tag": "1"}, tag="1")
    with pytest.raises(CommandError, match="2 errors"):
        run(tree.root)
    assert f"manifest {digest}: schemaVersion must be 2 (a Docker schema 1 manifest" in run.err


def test_a_pull_through_cache_namespace_is_refused(tree, sample, alice):
    ProxyCache.objects.create(namespace="team", upstream_url="http://127.0.0.1:9/")
    with pytest.raises(CommandError, match="pull-through caches, which nobody pushes to: team"):
        run(tree.root, "--owner", "alice")
    assert not Repository.objects.exists()


def test_a_namespace_that_cannot_be_an_organization_is_refused(tree, alice):
    tree.image("support/tools", "1", layer=b"tools")
    with pytest.raises(CommandError, match=r"cannot create these organizations: support \(This"):
        run(tree.root, "--owner", "alice")
    with pytest.raises(CommandError, match="'Bad NS' is not a valid namespace name"):
        run(tree.root, "--namespace", "Bad NS")
    assert not Organization.objects.filter(name="support").exists()
