"""Reading a registry:2 (CNCF Distribution) filesystem storage directory, without writing to it.

Distribution keeps everything under `docker/registry/v2/`:

- `blobs/sha256/<first two hex>/<hex>/data`: the bytes of every blob and manifest, once;
- `repositories/<name>/`: a repository (its name may have slashes, so repositories nest) is a
  directory holding `_manifests`; `_manifests/tags/<tag>/current/link` names the manifest a tag
  points at, `_manifests/revisions/sha256/<hex>/link` every manifest of the repository (tagged
  or not), `_layers/sha256/<hex>/link` every blob it may serve.

A link file holds one digest (`sha256:<hex>`). Nothing here trusts the tree: a link that is not a
digest, or a blob without its data file, is a LayoutProblem the importer reports.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from registry_api.digests import digest_is_valid

V2_PARTS = ("docker", "registry", "v2")
# Reading a link file: a digest is 71 characters (sha256) or 135 (sha512); more is not a link.
LINK_MAX_BYTES = 256


class LayoutError(Exception):
    """The path is not a registry:2 storage directory at all."""


class LayoutProblem(Exception):
    """One entry of the tree is unreadable or malformed; the rest can still be imported."""


def v2_root(path: Path) -> Path:
    """The `docker/registry/v2` directory, given it or the registry's data directory."""
    path = Path(path)
    for candidate in (path, path.joinpath(*V2_PARTS)):
        if (candidate / "repositories").is_dir() or (candidate / "blobs").is_dir():
            return candidate
    if not path.is_dir():
        raise LayoutError(f"{path} is not a directory")
    raise LayoutError(
        f"{path} is not a registry:2 storage directory: neither it nor "
        f"{path.joinpath(*V2_PARTS)} holds repositories/ or blobs/"
    )


@dataclass(frozen=True)
class LayoutRepository:
    name: str  # as registry:2 names it: `centos`, `team/app`
    path: Path


def link_read(path: Path) -> str:
    """The digest a link file holds; LayoutProblem when it is missing, unreadable or not one."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(LINK_MAX_BYTES + 1)
    except OSError as exc:
        raise LayoutProblem(f"cannot read {path}: {exc.strerror or exc}") from None
    text = raw.decode("ascii", errors="replace").strip()
    if len(raw) > LINK_MAX_BYTES or not digest_is_valid(text):
        raise LayoutProblem(f"{path} does not hold a digest (found {text[:80]!r})")
    return text


class Layout:
    """One registry:2 storage tree, read-only."""

    def __init__(self, path: Path):
        self.root = v2_root(path)

    def repositories(self) -> Iterator[LayoutRepository]:
        """Every repository, in name order; directories starting with `_` are not names."""
        base = self.root / "repositories"
        if not base.is_dir():
            return
        for directory, subdirectories, _files in os.walk(base):
            subdirectories[:] = sorted(d for d in subdirectories if not d.startswith("_"))
            current = Path(directory)
            if (current / "_manifests").is_dir():
                yield LayoutRepository(name=current.relative_to(base).as_posix(), path=current)

    @staticmethod
    def _links(directory: Path) -> Iterator[tuple[str, Path]]:
        """(directory name, its link file) for every `<algorithm>/<hex>/link` under directory."""
        if not directory.is_dir():
            return
        for algorithm in sorted(directory.iterdir()):
            if not algorithm.is_dir():
                continue
            for entry in sorted(algorithm.iterdir()):
                yield f"{algorithm.name}:{entry.name}", entry / "link"

    def _linked_digests(self, directory: Path) -> Iterator[str | LayoutProblem]:
        for name, link in self._links(directory):
            try:
                digest = link_read(link)
            except LayoutProblem as problem:
                yield problem
                continue
            if digest != name:
                yield LayoutProblem(f"{link} holds {digest}, not the {name} its directory names")
                continue
            yield digest

    def revisions(self, repository: LayoutRepository) -> Iterator[str | LayoutProblem]:
        """Every manifest digest of the repository (tagged or not)."""
        return self._linked_digests(repository.path / "_manifests" / "revisions")

    def layers(self, repository: LayoutRepository) -> Iterator[str | LayoutProblem]:
        """Every blob digest the repository links (layers and configs)."""
        return self._linked_digests(repository.path / "_layers")

    def tags(
        self, repository: LayoutRepository
    ) -> Iterator[tuple[str, str | LayoutProblem, float]]:
        """(tag, digest or problem, when the tag was last pointed) for every tag, by name."""
        directory = repository.path / "_manifests" / "tags"
        if not directory.is_dir():
            return
        for entry in sorted(directory.iterdir()):
            link = entry / "current" / "link"
            try:
                yield entry.name, link_read(link), link.stat().st_mtime
            except LayoutProblem as problem:
                yield entry.name, problem, 0.0

    def blob_data(self, digest: str) -> Path:
        algorithm, _, hex_digest = digest.partition(":")
        return self.root / "blobs" / algorithm / hex_digest[:2] / hex_digest / "data"

    def blob_size(self, digest: str) -> int:
        """The size of a blob's data file; LayoutProblem when it is missing."""
        path = self.blob_data(digest)
        try:
            return path.stat().st_size
        except OSError:
            raise LayoutProblem(f"blob {digest} has no data file ({path})") from None
