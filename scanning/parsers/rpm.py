"""RPM: `var/lib/rpm/rpmdb.sqlite` (Fedora 33+, RHEL 9, Rocky/Alma 9).

The Packages table holds each package's header blob; we read only the few string tags we need
from its index (name, version, release, epoch, arch, source rpm). The older Berkeley DB and
NDB databases are not read (reported as unsupported by the scan).
"""

from __future__ import annotations

import sqlite3
import struct

from scanning.parsers import FoundPackage

_NAME, _VERSION, _RELEASE, _EPOCH, _ARCH, _SOURCERPM = 1000, 1001, 1002, 1003, 1022, 1044
_STRING, _INT32 = 6, 4


def rpm_header_fields(blob: bytes) -> dict[int, str | int]:
    """The wanted tags of one header blob (an index of 16-byte entries, then the data store)."""
    if len(blob) < 8:
        return {}
    count, data_length = struct.unpack(">II", blob[:8])
    store = 8 + 16 * count
    if count > 100_000 or store + data_length > len(blob):
        return {}
    fields: dict[int, str | int] = {}
    for index in range(count):
        tag, kind, offset, _ = struct.unpack(">IIII", blob[8 + 16 * index : 24 + 16 * index])
        if tag not in (_NAME, _VERSION, _RELEASE, _EPOCH, _ARCH, _SOURCERPM):
            continue
        start = store + offset
        if kind == _STRING:
            end = blob.find(b"\0", start, store + data_length)
            if end >= 0:
                fields[tag] = blob[start:end].decode("utf-8", "replace")
        elif kind == _INT32 and start + 4 <= len(blob):
            fields[tag] = struct.unpack(">I", blob[start : start + 4])[0]
    return fields


def _source_name(source_rpm: str) -> str:
    # "openssl-3.0.7-6.el9.src.rpm" -> "openssl": drop release, version and suffix.
    parts = source_rpm.removesuffix(".rpm").rsplit("-", 2)
    return parts[0] if len(parts) == 3 else ""


def rpm_parse(path: str) -> list[FoundPackage]:
    """Packages of an rpmdb.sqlite file on disk (sqlite3 needs a file)."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error:
        return []
    packages = []
    try:
        for (blob,) in connection.execute("SELECT blob FROM Packages"):
            fields = rpm_header_fields(bytes(blob or b""))
            name, version = fields.get(_NAME), fields.get(_VERSION)
            if not isinstance(name, str) or not isinstance(version, str) or name == "gpg-pubkey":
                continue
            full = f"{version}-{fields[_RELEASE]}" if fields.get(_RELEASE) else version
            if fields.get(_EPOCH):
                full = f"{fields[_EPOCH]}:{full}"
            packages.append(
                FoundPackage(
                    "rpm",
                    name,
                    full,
                    source_name=_source_name(str(fields.get(_SOURCERPM, ""))),
                    arch=str(fields.get(_ARCH, "")),
                )  # fmt: skip
            )
    except sqlite3.Error:
        pass
    finally:
        connection.close()
    return packages
