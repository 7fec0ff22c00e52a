"""Tag rows and image details for the UI: sizes, platforms, layers, config; broken data degrades."""

from __future__ import annotations

from django.core.files.storage import storages

from hub.markdown import markdown_render
from hub.views.tag_rows import tag_detail, tag_row
from registry_api import storage
from registry_api.models import Manifest, Tag
from tests.web.conftest import image_create, index_create


def test_image_row_has_size_platform_and_pusher(public_repo, alice):
    tag = image_create(public_repo, "latest", pushed_by=alice)
    row = tag_row(tag)
    assert row.size == tag.manifest.total_size
    assert [str(p) for p in row.platforms] == ["linux/amd64"]
    assert row.tag.pushed_by == alice and not row.is_index


def test_index_row_sums_platform_sizes(public_repo):
    tag = index_create(public_repo, "multi")
    row = tag_row(tag)
    assert row.is_index
    assert [str(p) for p in row.platforms] == ["linux/amd64", "linux/arm64/v8"]
    assert row.size == sum(p.size for p in row.platforms) > 0


def test_layers_pair_with_history_commands_skipping_empty_layers(public_repo):
    detail = tag_detail(tag=image_create(public_repo, "latest"))
    assert [layer.command for layer in detail.image.layers] == [
        "ADD rootfs.tar /",
        "RUN apt-get install nginx",
    ]
    assert [layer.size for layer in detail.image.layers] == [9, 16]
    assert detail.image.config["ExposedPorts"] == {"80/tcp": {}}


def test_missing_config_blob_degrades_to_unavailable(public_repo):
    tag = image_create(public_repo, "latest")
    storages["registry"].delete(storage.blob_path(tag.manifest.config_digest))
    detail = tag_detail(tag=tag)
    assert detail.image.config_available is False
    assert len(detail.image.layers) == 2
    assert tag_row(tag).platforms == []


def test_unparsable_manifest_does_not_break(public_repo):
    manifest = Manifest.objects.create(
        repository=public_repo,
        digest="sha256:" + "0" * 64,
        media_type="application/vnd.oci.image.manifest.v1+json",
        payload=b"not json",
        size=8,
    )
    tag = Tag.objects.create(repository=public_repo, name="broken", manifest=manifest)
    assert tag_detail(tag=tag).image is None
    assert tag_row(tag).digest == manifest.digest


def test_markdown_keeps_formatting_and_drops_scripts():
    html = markdown_render("**b** <script>x()</script> [a](javascript:x) ![i](http://h/i.png)")
    assert "<strong>b</strong>" in html
    assert "<script" not in html and "javascript:" not in html
    assert '<img alt="i" src="http://h/i.png">' in html


def test_markdown_without_html_escapes_tags():
    html = markdown_render("<i>x</i> `<b>`", allow_html=False)
    assert "&lt;i&gt;x&lt;/i&gt;" in html and "<code>&lt;b&gt;</code>" in html
