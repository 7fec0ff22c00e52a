"""Package database parsers, one file's bytes at a time."""

from __future__ import annotations

import sqlite3
import struct

from scanning.parsers.apk import apk_parse
from scanning.parsers.dpkg import dpkg_parse
from scanning.parsers.language import npm_package_parse, python_metadata_parse
from scanning.parsers.os_release import os_release_parse
from scanning.parsers.rpm import rpm_parse
from scanning.purls import package_purl
from tests.scanning.images import DPKG_STATUS, OS_RELEASE, PYTHON_METADATA


def test_dpkg_status_lists_installed_packages_with_their_source():
    packages = dpkg_parse(DPKG_STATUS)
    assert [(p.name, p.version, p.source_name) for p in packages] == [
        ("openssl", "3.0.11-1~deb12u1", ""),
        ("libssl3", "3.0.11-1~deb12u1", "openssl"),
    ]
    assert packages[0].arch == "amd64"


def test_dpkg_status_d_file_without_status_counts_as_installed():
    assert [p.name for p in dpkg_parse(b"Package: base-files\nVersion: 12.4\n")] == ["base-files"]


def test_damaged_dpkg_status_yields_what_it_can():
    assert dpkg_parse(b"\xff\xfe garbage\n\nPackage: a\n") == []


def test_apk_installed_database():
    content = b"C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\no:musl\n\nP:busybox\nV:1.36.1-r5\n"
    packages = apk_parse(content)
    assert [(p.name, p.version, p.source_name, p.arch) for p in packages] == [
        ("musl", "1.2.4-r2", "musl", "x86_64"),
        ("busybox", "1.36.1-r5", "", ""),
    ]


def _rpm_header(tags: dict[int, str]) -> bytes:
    index, store = b"", b""
    for tag, value in tags.items():
        index += struct.pack(">IIII", tag, 6, len(store), 1)
        store += value.encode() + b"\0"
    return struct.pack(">II", len(tags), len(store)) + index + store


def test_rpmdb_sqlite_headers_give_name_version_release(tmp_path):
    path = tmp_path / "rpmdb.sqlite"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB)")
    header = _rpm_header(
        {
            1000: "openssl",
            1001: "3.0.7",
            1002: "6.el9",
            1022: "x86_64",
            1044: "openssl-3.0.7-6.el9.src.rpm",
        }  # fmt: skip
    )
    connection.execute("INSERT INTO Packages (blob) VALUES (?)", (header,))
    connection.execute("INSERT INTO Packages (blob) VALUES (?)", (b"\x00\x01short",))
    connection.commit()
    connection.close()
    [package] = rpm_parse(str(path))
    assert (package.name, package.version, package.source_name, package.arch) == (
        "openssl", "3.0.7-6.el9", "openssl", "x86_64",
    )  # fmt: skip


def test_not_an_rpm_database_yields_nothing(tmp_path):
    path = tmp_path / "rpmdb.sqlite"
    path.write_bytes(b"not sqlite")
    assert rpm_parse(str(path)) == []


def test_python_metadata_reads_only_the_headers():
    [package] = python_metadata_parse(PYTHON_METADATA)
    assert (package.ecosystem, package.name, package.version) == ("pypi", "x", "1.0")
    assert python_metadata_parse(b"Name: only-a-name\n") == []


def test_npm_package_json():
    [package] = npm_package_parse(b'{"name": "@scope/left-pad", "version": "1.3.0"}')
    assert package.name == "@scope/left-pad"
    assert npm_package_parse(b"[1, 2]") == []
    assert npm_package_parse(b"{not json") == []


def test_os_release():
    assert os_release_parse(OS_RELEASE) == ("debian", "12")


def test_purls_follow_the_purl_spec():
    [openssl, _] = dpkg_parse(DPKG_STATUS)
    assert package_purl(openssl, distro="debian", distro_version="12") == (
        "pkg:deb/debian/openssl@3.0.11-1~deb12u1?arch=amd64&distro=debian-12"
    )
    [scoped] = npm_package_parse(b'{"name": "@scope/left-pad", "version": "1.3.0"}')
    assert package_purl(scoped) == "pkg:npm/%40scope/left-pad@1.3.0"
    [python] = python_metadata_parse(b"Name: Zope.Interface\nVersion: 5.0\n")
    assert package_purl(python) == "pkg:pypi/zope-interface@5.0"
