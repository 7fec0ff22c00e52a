"""Read an image's layers as a stream and collect what its package databases say.

Layers are tar files (gzip, bzip2 or xz compressed, or not at all) read front to back from the
blob store, never whole in memory, and never extracted: only the few files that list packages
are read, each up to SCAN_MAX_FILE_BYTES. The work per image is bounded by SCAN_MAX_BYTES (bytes
read from storage, all layers together), 8 times that in uncompressed tar bytes, and
SCAN_MAX_FILES (tar members looked at); past any of them the scan stops, keeps what it found
and says it was truncated.

Layers apply in order: a file in a later layer replaces the same path below it, and whiteouts
(`.wh.<name>` deletes a path, `.wh..wh..opq` empties a directory) remove what lower layers had.
"""

from __future__ import annotations

import io
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from scanning.parsers import FoundPackage
from scanning.parsers.apk import apk_parse
from scanning.parsers.dpkg import dpkg_parse
from scanning.parsers.language import npm_package_parse, python_metadata_parse
from scanning.parsers.os_release import os_release_parse
from scanning.parsers.rpm import rpm_parse

_DPKG_STATUS_D = "var/lib/dpkg/status.d/"
_RPMDB = ("var/lib/rpm/rpmdb.sqlite", "usr/lib/sysimage/rpm/rpmdb.sqlite")
_RPM_LEGACY = ("var/lib/rpm/Packages", "var/lib/rpm/Packages.db")
_OS_RELEASE = ("etc/os-release", "usr/lib/os-release")
_WHITEOUT = ".wh."
_OPAQUE = ".wh..wh..opq"


@dataclass(frozen=True)
class ScanLimits:
    max_bytes: int
    max_files: int
    max_file_bytes: int
    # Uncompressed tar bytes, all layers together: skipping a member still inflates it, so a
    # small gzip bomb must not cost hours. Default: 8 times max_bytes.
    max_unpacked_bytes: int = 0

    @property
    def unpacked_limit(self) -> int:
        return self.max_unpacked_bytes or 8 * self.max_bytes


class _LimitReached(Exception):
    pass


@dataclass
class ImageContents:
    """What the layers hold: packages by the file that listed them, and how much was read."""

    files: dict[str, tuple[str, list[FoundPackage]]] = field(default_factory=dict)
    distro: tuple[str, str] = ("", "")
    bytes_read: int = 0
    unpacked_bytes: int = 0
    files_seen: int = 0
    layers_read: int = 0
    truncated: bool = False
    notes: list[str] = field(default_factory=list)

    def packages(self) -> list[tuple[FoundPackage, str]]:
        """(package, layer digest) pairs, each package once (the topmost file wins)."""
        seen, result = set(), []
        for path in sorted(self.files):
            layer, found = self.files[path]
            for package in found:
                key = (package.ecosystem, package.name, package.version)
                if key not in seen:
                    seen.add(key)
                    result.append((package, layer))
        return result


def file_kind(path: str) -> str | None:
    """Which parser reads the file at `path` (relative, no leading slash), if any."""
    if path == "var/lib/dpkg/status":
        return "dpkg"
    if path.startswith(_DPKG_STATUS_D):
        rest = path[len(_DPKG_STATUS_D) :]
        return "dpkg" if rest and "/" not in rest and not rest.endswith(".md5sums") else None
    if path == "lib/apk/db/installed":
        return "apk"
    if path in _RPMDB:
        return "rpm"
    if path in _RPM_LEGACY:
        return "rpm-legacy"
    if path in _OS_RELEASE:
        return "os-release"
    parts = path.split("/")
    if len(parts) >= 2:
        if parts[-1] == "METADATA" and parts[-2].endswith(".dist-info"):
            return "python"
        if parts[-1] == "PKG-INFO" and parts[-2].endswith(".egg-info"):
            return "python"
    if len(parts) >= 3 and parts[-1] == "package.json":
        if parts[-3] == "node_modules" and not parts[-2].startswith("@"):
            return "npm"
        if len(parts) >= 4 and parts[-4] == "node_modules" and parts[-3].startswith("@"):
            return "npm"
    return None


class _CountingReader(io.RawIOBase):
    """Reads through to the blob, counting bytes against the image's budget."""

    def __init__(self, handle: BinaryIO, contents: ImageContents, limit: int):
        self._handle, self._contents, self._limit = handle, contents, limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._contents.bytes_read >= self._limit:
            raise _LimitReached
        want = min(len(buffer), self._limit - self._contents.bytes_read)
        data = self._handle.read(want)
        buffer[: len(data)] = data
        self._contents.bytes_read += len(data)
        return len(data)


def _normalize(name: str) -> str:
    while name.startswith(("./", "/")):
        name = name[1:] if name.startswith("/") else name[2:]
    return "" if name == "." else name.rstrip("/")


def _read_capped(handle, limit: int) -> bytes | None:
    data = handle.read(limit + 1)
    return None if len(data) > limit else data


def _parse(kind: str, handle, limits: ScanLimits, contents: ImageContents, path: str):
    """Packages (or the distro) in one file; None when nothing applies."""
    if kind == "rpm":
        with tempfile.NamedTemporaryFile(suffix=".sqlite") as copy:
            size = 0
            while chunk := handle.read(1024 * 1024):
                size += len(chunk)
                if size > limits.max_file_bytes:
                    contents.notes.append(f"{path}: larger than the per-file limit, skipped")
                    return None
                copy.write(chunk)
            copy.flush()
            return rpm_parse(copy.name)
    if kind == "rpm-legacy":
        contents.notes.append(f"{path}: Berkeley DB/NDB rpm databases are not read")
        return None
    data = _read_capped(handle, limits.max_file_bytes)
    if data is None:
        contents.notes.append(f"{path}: larger than the per-file limit, skipped")
        return None
    if kind == "os-release":
        contents.distro = os_release_parse(data)
        return None
    parser = {
        "dpkg": dpkg_parse,
        "apk": apk_parse,
        "python": python_metadata_parse,
        "npm": npm_package_parse,
    }[kind]
    return parser(data)


def _whiteouts_apply(files: dict, deleted: set[str], opaque: set[str]) -> None:
    for path in list(files):
        if path in deleted or any(path.startswith(prefix + "/") for prefix in deleted | opaque):
            del files[path]


def _layer_read(digest: str, handle: BinaryIO, limits: ScanLimits, contents: ImageContents):
    found: dict[str, tuple[str, list[FoundPackage]]] = {}
    deleted, opaque = set(), set()
    unpacked = contents.unpacked_bytes  # what the layers below inflated to
    reader = io.BufferedReader(_CountingReader(handle, contents, limits.max_bytes), 1024 * 1024)
    with tarfile.open(fileobj=reader, mode="r|*") as tar:
        for member in tar:
            contents.files_seen += 1
            if contents.files_seen > limits.max_files:
                raise _LimitReached
            # Reading on to the next member inflates this one: stop first if it is too big.
            if unpacked + member.offset_data + member.size > limits.unpacked_limit:
                raise _LimitReached
            contents.unpacked_bytes = unpacked + member.offset_data + member.size
            path = _normalize(member.name)
            directory, _, base = path.rpartition("/")
            if base == _OPAQUE:
                opaque.add(directory)
                continue
            if base.startswith(_WHITEOUT):
                deleted.add(f"{directory}/{base[4:]}" if directory else base[4:])
                continue
            kind = file_kind(path) if member.isfile() else None
            if kind is None:
                continue
            extracted = tar.extractfile(member)
            packages = _parse(kind, extracted, limits, contents, path)
            if packages is not None:
                found[path] = (digest, packages)
    _whiteouts_apply(contents.files, deleted, opaque)
    contents.files.update(found)


def image_contents(
    layers: list[tuple[str, str]],
    *,
    open_blob: Callable[[str], BinaryIO],
    limits: ScanLimits,
) -> ImageContents:
    """Read `layers` ((digest, media type), bottom first) within `limits`."""
    contents = ImageContents()
    for digest, media_type in layers:
        if "tar" not in media_type:
            contents.notes.append(f"{digest}: {media_type} is not a tar layer, skipped")
            continue
        try:
            with open_blob(digest) as handle:
                contents.layers_read += 1
                _layer_read(digest, handle, limits, contents)
        except _LimitReached:
            contents.truncated = True
            contents.notes.append("scan limit reached: later files and layers were not read")
            break
        except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
            # zstd layers (tarfile cannot read them), damaged or missing blobs.
            contents.notes.append(f"{digest}: not readable as a tar layer ({exc})")
    return contents
