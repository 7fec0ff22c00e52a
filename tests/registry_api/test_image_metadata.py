"""A push by tag fills the repository's description, links and licence from the image's OCI
annotations (manifest, index, or the config's Labels) unless the owner set them."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from hub.models import Repository
from hub.services.repositories import repository_update
from registry_api.digests import digest_bytes
from tests.conftest import basic_auth
from tests.registry_api.conftest import bearer, blob_upload, push_access

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
P = "org.opencontainers.image."


def _descriptor(media_type: str, data: bytes) -> dict:
    return {"mediaType": media_type, "digest": digest_bytes(data), "size": len(data)}


def push(
    client, name, reference, *, labels=None, annotations=None, arch="amd64", layer=b"layer"
) -> dict:
    """Push an image with those config labels and manifest annotations; return its descriptor."""
    headers = bearer(name.split("/")[0], push_access(name))
    config = json.dumps(
        {"architecture": arch, "os": "linux", "config": {"Labels": labels or {}}}
    ).encode()
    for data in (config, layer):
        blob_upload(client, name, data, headers)
    document = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": _descriptor("application/vnd.oci.image.config.v1+json", config),
        "layers": [_descriptor("application/vnd.oci.image.layer.v1.tar", layer)],
    }
    if annotations:
        document["annotations"] = annotations
    body = json.dumps(document).encode()
    reference = reference or digest_bytes(body)  # None: push by digest
    answer = client.put(
        f"/v2/{name}/manifests/{reference}", data=body, content_type=OCI_MANIFEST, **headers
    )
    assert answer.status_code == 201, answer.content
    return {**_descriptor(OCI_MANIFEST, body), "platform": {"os": "linux", "architecture": arch}}


def push_index(client, name, tag, children, annotations) -> None:
    headers = bearer(name.split("/")[0], push_access(name))
    body = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": children,
            "annotations": annotations,
        }
    ).encode()
    answer = client.put(f"/v2/{name}/manifests/{tag}", data=body, content_type=OCI_INDEX, **headers)
    assert answer.status_code == 201, answer.content


@pytest.fixture
def registry(django_capture_on_commit_callbacks):
    """A test client whose pushes run their after-commit work (the metadata task) at once."""

    class Registry(Client):
        def put(self, *args, **kwargs):
            with django_capture_on_commit_callbacks(execute=True):
                return super().put(*args, **kwargs)

    return Registry()


def _repository(name="alice/app") -> Repository:
    namespace, _, short = name.partition("/")
    return Repository.objects.get(namespace__name=namespace, name=short)


def test_config_labels_fill_an_empty_repository(registry, alice):
    push(
        registry,
        "alice/app",
        "latest",
        labels={
            P + "description": "A small web server",
            P + "source": "https://git.example.com/alice/app",
            P + "documentation": "https://docs.example.com/app",
            P + "url": "https://app.example.com",
            P + "licenses": "Apache-2.0",
            P + "title": "App",
            P + "version": "1.2.3",
            "maintainer": "not ours",
        },
    )
    repository = _repository()
    assert repository.description == "A small web server"
    assert repository.source_url == "https://git.example.com/alice/app"
    assert repository.documentation_url == "https://docs.example.com/app"
    assert repository.homepage_url == "https://app.example.com"
    assert repository.license == "Apache-2.0"
    assert (repository.image_title, repository.image_version) == ("App", "1.2.3")
    assert set(repository.metadata_from_image) == {
        "description",
        "source_url",
        "documentation_url",
        "homepage_url",
        "license",
    }


def test_manifest_annotations_win_over_config_labels(registry, alice):
    push(
        registry,
        "alice/app",
        "latest",
        labels={P + "description": "from the label"},
        annotations={P + "description": "from the annotation"},
    )
    assert _repository().description == "from the annotation"


def test_index_annotations_and_its_amd64_image_fill_the_repository(registry, alice):
    arm = push(registry, "alice/app", None, arch="arm64", layer=b"arm")
    # pushed by digest: a child, no tag, so no metadata yet
    assert _repository().source_url == ""
    amd = push(
        registry,
        "alice/app",
        "child",
        arch="amd64",
        layer=b"amd",
        labels={P + "licenses": "MIT"},
    )
    Repository.objects.filter(pk=_repository().pk).update(license="", metadata_from_image=[])
    push_index(
        registry,
        "alice/app",
        "multi",
        [arm, amd],
        {P + "source": "https://git.example.com/multi"},
    )
    repository = _repository()
    assert repository.source_url == "https://git.example.com/multi"
    assert repository.license == "MIT"  # the linux/amd64 child's label, not the first child's


def test_a_later_push_updates_annotation_values_but_never_the_owners(registry, alice):
    push(
        registry,
        "alice/app",
        "v1",
        labels={P + "description": "first", P + "source": "https://git.example.com/one"},
    )
    repository = _repository()
    repository_update(repository=repository, actor=alice, description="Mine")
    push(
        registry,
        "alice/app",
        "v2",
        layer=b"second",
        labels={P + "description": "second", P + "source": "https://git.example.com/two"},
    )
    repository.refresh_from_db()
    assert repository.description == "Mine"
    assert repository.source_url == "https://git.example.com/two"
    assert repository.metadata_from_image == ["source_url"]


def test_the_description_set_at_creation_is_the_owners(registry, alice, public_repo):
    public_repo.description = "Set by alice"
    public_repo.save()
    push(registry, "alice/app", "latest", labels={P + "description": "from image"})
    assert _repository().description == "Set by alice"


def test_saving_settings_unchanged_keeps_image_values_the_images(registry, alice, client):
    push(registry, "alice/app", "v1", labels={P + "licenses": "MIT"})
    client.force_login(alice)
    answer = client.post(
        "/r/alice/app/-/settings/",
        {"description": "", "full_description": "", "license": "MIT", "comments_enabled": "on"},
    )
    assert answer.status_code == 302
    assert _repository().metadata_from_image == ["license"]
    client.post(
        "/r/alice/app/-/settings/",
        {"license": "BSD-3-Clause", "comments_enabled": "on"},
    )
    push(registry, "alice/app", "v2", layer=b"two", labels={P + "licenses": "GPL-3.0"})
    assert _repository().license == "BSD-3-Clause"


@pytest.mark.parametrize(
    "value",
    ["javascript:alert(1)", "ftp://example.com/x", "not a url", "https://" + "a" * 600 + ".com"],
)
def test_annotation_links_that_are_not_http_urls_are_ignored(registry, alice, value):
    push(registry, "alice/app", "latest", labels={P + "source": value, P + "url": value})
    repository = _repository()
    assert repository.source_url == "" and repository.homepage_url == ""


def test_a_long_description_is_cut_to_the_field(registry, alice):
    push(registry, "alice/app", "latest", labels={P + "description": "word " * 100})
    description = _repository().description
    assert len(description) == 100 and description.endswith("…")


def test_an_older_push_read_late_changes_nothing(alice, public_repo):
    from datetime import timedelta

    from django.utils import timezone

    from hub.services.image_metadata import repository_metadata_apply

    now = timezone.now()
    repository_metadata_apply(
        repository_id=public_repo.pk, annotations={P + "licenses": "MIT"}, pushed_at=now
    )
    repository_metadata_apply(
        repository_id=public_repo.pk,
        annotations={P + "licenses": "GPL-2.0"},
        pushed_at=now - timedelta(seconds=5),
    )
    public_repo.refresh_from_db()
    assert public_repo.license == "MIT"


def test_repository_page_search_and_api_show_the_image_metadata(registry, alice, client):
    push(
        registry,
        "alice/app",
        "latest",
        labels={
            P + "description": "Frobnicates widgets",
            P + "source": "https://git.example.com/alice/app",
            P + "licenses": "MIT",
        },
    )
    page = client.get("/r/alice/app/").content.decode()
    assert "Frobnicates widgets" in page
    assert 'href="https://git.example.com/alice/app"' in page and "MIT" in page
    results = client.get("/search/", {"q": "frobnicates"}).content.decode()
    assert "/r/alice/app/" in results and "MIT" in results
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=basic_auth("alice"))
    body = api.get("/api/v1/repositories/alice/app/").json()
    assert body["source_url"] == "https://git.example.com/alice/app"
    assert body["license"] == "MIT" and "license" in body["metadata_from_image"]
    patched = api.patch(
        "/api/v1/repositories/alice/app/", {"license": "Apache-2.0"}, format="json"
    ).json()
    assert patched["license"] == "Apache-2.0" and "license" not in patched["metadata_from_image"]
    refused = api.patch(
        "/api/v1/repositories/alice/app/", {"source_url": "ftp://example.com/"}, format="json"
    )
    assert refused.status_code == 400


def test_a_field_the_owner_cleared_is_filled_again_by_the_next_push(registry, alice):
    push(registry, "alice/app", "v1", labels={P + "licenses": "MIT"})
    repository = _repository()
    repository_update(repository=repository, actor=alice, license="")
    assert repository.metadata_from_image == []
    push(registry, "alice/app", "v2", layer=b"two", labels={P + "licenses": "MIT-0"})
    assert _repository().license == "MIT-0"  # empty means "not set": images may fill it


def test_a_referrer_pushed_by_tag_does_not_describe_the_repository(registry, alice):
    subject = push(registry, "alice/app", "latest")
    headers = bearer("alice", push_access("alice/app"))
    config = b"{}"
    blob_upload(registry, "alice/app", config, headers)
    body = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": "application/spdx+json",
            "config": _descriptor("application/vnd.oci.empty.v1+json", config),
            "layers": [_descriptor("application/vnd.oci.empty.v1+json", config)],
            "subject": {key: subject[key] for key in ("mediaType", "digest", "size")},
            "annotations": {P + "description": "an SBOM, not the repository"},
        }
    ).encode()
    answer = registry.put(
        "/v2/alice/app/manifests/sbom", data=body, content_type=OCI_MANIFEST, **headers
    )
    assert answer.status_code == 201, answer.content
    assert _repository().description == ""
