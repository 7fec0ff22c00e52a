"""Reading layers as streams: file selection, whiteouts, limits, unreadable layers."""

from __future__ import annotations

import io

from scanning.layers import ScanLimits, file_kind, image_contents
from tests.scanning.images import DEBIAN_FILES, tar_layer

LIMITS = ScanLimits(max_bytes=10**9, max_files=10**6, max_file_bytes=10**7)
TAR = "application/vnd.oci.image.layer.v1.tar+gzip"


def _scan(*layers: bytes, limits: ScanLimits = LIMITS):
    blobs = {f"sha256:{index:064x}": data for index, data in enumerate(layers)}
    opened = []

    def open_blob(digest):
        opened.append(digest)
        return io.BytesIO(blobs[digest])

    contents = image_contents([(d, TAR) for d in blobs], open_blob=open_blob, limits=limits)
    return contents, opened


def _names(contents):
    return sorted((package.ecosystem, package.name) for package, _ in contents.packages())


def test_file_kinds():
    assert file_kind("var/lib/dpkg/status") == "dpkg"
    assert file_kind("var/lib/dpkg/status.d/base-files") == "dpkg"
    assert file_kind("var/lib/dpkg/status.d/base-files.md5sums") is None
    assert file_kind("lib/apk/db/installed") == "apk"
    assert file_kind("usr/lib/sysimage/rpm/rpmdb.sqlite") == "rpm"
    assert file_kind("usr/lib/python3.11/site-packages/x-1.0.dist-info/METADATA") == "python"
    assert file_kind("app/node_modules/left-pad/package.json") == "npm"
    assert file_kind("app/node_modules/@scope/pad/package.json") == "npm"
    assert file_kind("app/node_modules/left-pad/lib/package.json") is None
    assert file_kind("app/package.json") is None


def test_packages_and_distro_of_a_debian_layer():
    contents, _ = _scan(tar_layer({f"./{path}": body for path, body in DEBIAN_FILES.items()}))
    assert _names(contents) == [("deb", "libssl3"), ("deb", "openssl"), ("pypi", "x")]
    assert contents.distro == ("debian", "12")
    assert not contents.truncated


def test_a_whiteout_deletes_what_a_lower_layer_installed():
    lower = tar_layer(DEBIAN_FILES, compress=False)
    upper = tar_layer({"usr/lib/python3/site-packages/.wh.x-1.0.dist-info": b""})
    contents, _ = _scan(lower, upper)
    assert ("pypi", "x") not in _names(contents)
    assert ("deb", "openssl") in _names(contents)


def test_an_opaque_directory_hides_the_lower_layers_content_but_not_its_own():
    lower = tar_layer({"app/node_modules/a/package.json": b'{"name":"a","version":"1.0.0"}'})
    upper = tar_layer(
        {
            "app/node_modules/.wh..wh..opq": b"",
            "app/node_modules/b/package.json": b'{"name":"b","version":"2.0.0"}',
        }
    )
    contents, _ = _scan(lower, upper)
    assert _names(contents) == [("npm", "b")]


def test_a_later_layer_replaces_a_package_database():
    first = tar_layer({"lib/apk/db/installed": b"P:musl\nV:1.2.3-r0\n"})
    second = tar_layer({"lib/apk/db/installed": b"P:musl\nV:1.2.4-r2\n"})
    contents, _ = _scan(first, second)
    [(package, layer)] = contents.packages()
    assert package.version == "1.2.4-r2"
    assert layer.endswith("1")


def test_the_byte_budget_stops_the_scan_and_says_so():
    big = tar_layer({"data/blob.bin": bytes(300_000), **DEBIAN_FILES}, compress=False)
    limits = ScanLimits(max_bytes=100_000, max_files=100, max_file_bytes=10**6)
    contents, opened = _scan(big, tar_layer(DEBIAN_FILES), limits=limits)
    assert contents.truncated
    assert contents.bytes_read <= 100_000
    assert len(opened) == 1  # the second layer was never opened
    assert contents.packages() == []


def test_the_file_budget_stops_the_scan():
    many = tar_layer({f"f/{index}": b"" for index in range(50)} | DEBIAN_FILES)
    contents, _ = _scan(many, limits=ScanLimits(max_bytes=10**9, max_files=10, max_file_bytes=10))
    assert contents.truncated
    assert contents.files_seen == 11


def test_a_too_large_package_database_is_skipped_with_a_note():
    contents, _ = _scan(
        tar_layer(DEBIAN_FILES),
        limits=ScanLimits(max_bytes=10**9, max_files=100, max_file_bytes=50),
    )
    assert contents.packages() == []
    assert any("per-file limit" in note for note in contents.notes)


def test_a_layer_that_is_not_a_tar_is_noted_and_skipped():
    contents, _ = _scan(b"random bytes, not a tar", tar_layer(DEBIAN_FILES))
    assert ("deb", "openssl") in _names(contents)
    assert any("not readable" in note for note in contents.notes)


def test_a_gzip_bomb_stops_at_the_unpacked_budget_before_inflating_its_member():
    bomb = tar_layer({"zeros.bin": bytes(5_000_000), **DEBIAN_FILES})
    assert len(bomb) < 20_000
    limits = ScanLimits(max_bytes=100_000, max_files=100, max_file_bytes=10**6)
    contents, _ = _scan(bomb, limits=limits)
    assert contents.truncated
    assert contents.bytes_read < 20_000 and contents.unpacked_bytes == 0
