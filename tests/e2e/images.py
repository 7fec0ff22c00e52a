"""Test images built offline: busybox plus random layers, as docker-archives and OCI layouts.

No image can come from the internet, so every end-to-end test builds its own: a rootfs layer with
busybox-static's /bin/busybox, then layers of random (incompressible) bytes of given sizes, and a
config whose CMD runs `busybox echo <message>`. `docker load` takes the docker-archive; skopeo and
podman take the OCI layout (`oci:DIR:TAG`). Layers are written once to disk, streamed and hashed
while written, and stay uncompressed: clients compress them on push when they want to.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

BUSYBOX = Path("/bin/busybox")
# A fixed time keeps configs (and therefore image IDs) reproducible.
CREATED = "2026-01-01T00:00:00Z"
MTIME = 1767225600
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
MiB = 1024 * 1024


@dataclass(frozen=True)
class Layer:
    """An uncompressed layer tarball on disk; its digest is also its diff_id."""

    path: Path
    digest: str
    size: int


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(MiB):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest()


class _HashingWriter(io.RawIOBase):
    """A file that hashes and counts what tarfile writes through it (one pass over the bytes)."""

    def __init__(self, path: Path):
        self._file = open(path, "wb")  # noqa: SIM115 - closed in close()
        self.sha256 = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.size

    def write(self, data) -> int:
        self._file.write(data)
        self.sha256.update(data)
        self.size += len(data)
        return len(data)

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()
        super().close()


class _RandomReader(io.RawIOBase):
    """`size` pseudo-random bytes from a seed, read in chunks: incompressible and reproducible."""

    def __init__(self, size: int, seed: int):
        self._left = size
        self._random = random.Random(seed)

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        n = self._left if n < 0 else min(n, self._left)
        self._left -= n
        return self._random.randbytes(n)


def _info(name: str, *, size: int = 0, mode: int = 0o644, kind: bytes = tarfile.REGTYPE):
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.type, info.mtime = size, mode, kind, MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def _write_layer(path: Path, members) -> Layer:
    """members: (TarInfo, fileobj or None) pairs."""
    partial = path.with_name(path.name + ".part")  # a failed run never leaves a short layer
    writer = _HashingWriter(partial)
    with tarfile.open(fileobj=writer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, fileobj in members:
            tar.addfile(info, fileobj)
    writer.close()
    partial.rename(path)
    return Layer(path=path, digest="sha256:" + writer.sha256.hexdigest(), size=writer.size)


def busybox_layer(directory: Path) -> Layer:
    """/bin/busybox, /bin/sh and /bin/echo: enough for `docker run IMAGE` to print something."""
    path = directory / "rootfs.tar"
    if path.exists():
        return Layer(path, sha256_file(path), path.stat().st_size)
    size = BUSYBOX.stat().st_size
    with open(BUSYBOX, "rb") as binary:
        members = [
            (_info("bin/", mode=0o755, kind=tarfile.DIRTYPE), None),
            (_info("bin/busybox", size=size, mode=0o755), binary),
        ]
        for applet in ("sh", "echo", "cat", "ls"):
            link = _info(f"bin/{applet}", mode=0o777, kind=tarfile.SYMTYPE)
            link.linkname = "busybox"
            members.append((link, None))
        members += [
            (_info("tmp/", mode=0o1777, kind=tarfile.DIRTYPE), None),
            (_info("etc/", mode=0o755, kind=tarfile.DIRTYPE), None),
        ]
        return _write_layer(path, members)


def random_layer(directory: Path, name: str, size: int, seed: int) -> Layer:
    """A layer holding one file of `size` random bytes at /data/<name>.bin."""
    members = [
        (_info("data/", mode=0o755, kind=tarfile.DIRTYPE), None),
        (_info(f"data/{name}.bin", size=size), _RandomReader(size, seed)),
    ]
    return _write_layer(directory / f"{name}.tar", members)


def text_layer(directory: Path, name: str, files: dict[str, bytes]) -> Layer:
    members = [(_info(path, size=len(body)), io.BytesIO(body)) for path, body in files.items()]
    return _write_layer(directory / f"{name}.tar", members)


@dataclass
class TestImage:
    """Layers plus the config that runs `busybox echo <message>`."""

    __test__ = False  # not a pytest test class

    layers: list[Layer]
    message: str
    architecture: str = "amd64"
    os: str = "linux"
    variant: str = ""
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def cmd(self) -> list[str]:
        return ["/bin/busybox", "echo", self.message]

    def config_bytes(self) -> bytes:
        config = {
            "architecture": self.architecture,
            "os": self.os,
            "created": CREATED,
            "config": {
                "Cmd": self.cmd,
                "Env": ["PATH=/bin"],
                "Labels": self.labels or None,
            },
            "rootfs": {"type": "layers", "diff_ids": [layer.digest for layer in self.layers]},
            "history": [
                {"created": CREATED, "created_by": f"tests/e2e/images.py {layer.path.name}"}
                for layer in self.layers
            ],
        }
        if self.variant:
            config["variant"] = self.variant
        return json.dumps(config, sort_keys=True, separators=(",", ":")).encode()

    @property
    def config_digest(self) -> str:
        return "sha256:" + hashlib.sha256(self.config_bytes()).hexdigest()

    @property
    def image_id(self) -> str:
        """What `docker images --no-trunc` shows after `docker load`: the config's digest."""
        return self.config_digest

    @property
    def total_layer_bytes(self) -> int:
        return sum(layer.size for layer in self.layers)

    def oci_manifest_bytes(self) -> bytes:
        config = self.config_bytes()
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": self.config_digest, "size": len(config)},
            "layers": [
                {"mediaType": OCI_LAYER, "digest": layer.digest, "size": layer.size}
                for layer in self.layers
            ],
        }
        return json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()

    @property
    def oci_manifest_digest(self) -> str:
        return "sha256:" + hashlib.sha256(self.oci_manifest_bytes()).hexdigest()

    def platform(self) -> dict[str, str]:
        platform = {"architecture": self.architecture, "os": self.os}
        if self.variant:
            platform["variant"] = self.variant
        return platform

    def write_docker_archive(self, path: Path, repo_tag: str) -> Path:
        """A `docker save`-format tarball that `docker load -i` accepts (engine 20.10 and later)."""
        config = self.config_bytes()
        config_name = self.config_digest.split(":", 1)[1] + ".json"
        layer_names = [f"{layer.digest.split(':', 1)[1]}/layer.tar" for layer in self.layers]
        manifest = [{"Config": config_name, "RepoTags": [repo_tag], "Layers": layer_names}]
        with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
            for layer, name in zip(self.layers, layer_names, strict=True):
                tar.addfile(_info(name.split("/")[0] + "/", mode=0o755, kind=tarfile.DIRTYPE))
                with open(layer.path, "rb") as body:
                    tar.addfile(_info(name, size=layer.size), body)
            tar.addfile(_info(config_name, size=len(config)), io.BytesIO(config))
            body = json.dumps(manifest).encode()
            tar.addfile(_info("manifest.json", size=len(body)), io.BytesIO(body))
        return path

    def write_oci_layout(self, directory: Path, tag: str) -> str:
        """Add this image to the OCI layout at `directory` under `tag`; return `oci:DIR:TAG`."""
        blobs = directory / "blobs" / "sha256"
        blobs.mkdir(parents=True, exist_ok=True)
        (directory / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
        for layer in self.layers:
            target = blobs / layer.digest.split(":", 1)[1]
            if not target.exists():
                os.link(layer.path, target)  # same filesystem (tmp); no copy of 50 MB
        _write_blob(blobs, self.config_bytes())
        manifest = self.oci_manifest_bytes()
        _write_blob(blobs, manifest)
        _add_to_index(
            directory,
            {
                "mediaType": OCI_MANIFEST,
                "digest": self.oci_manifest_digest,
                "size": len(manifest),
                "platform": self.platform(),
                "annotations": {"org.opencontainers.image.ref.name": tag},
            },
        )
        return f"oci:{directory}:{tag}"


def _write_blob(blobs: Path, body: bytes) -> str:
    digest = hashlib.sha256(body).hexdigest()
    (blobs / digest).write_bytes(body)
    return "sha256:" + digest


def _add_to_index(directory: Path, descriptor: dict) -> None:
    index_path = directory / "index.json"
    index = (
        json.loads(index_path.read_text())
        if index_path.exists()
        else {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}
    )
    name = descriptor.get("annotations", {}).get("org.opencontainers.image.ref.name")
    index["manifests"] = [
        entry
        for entry in index["manifests"]
        if entry.get("annotations", {}).get("org.opencontainers.image.ref.name") != name
    ] + [descriptor]
    index_path.write_text(json.dumps(index, indent=1))


def build_image(
    directory: Path,
    *,
    message: str,
    sizes: tuple[int, ...] = (50 * MiB, 3 * MiB),
    seed: int = 1,
    architecture: str = "amd64",
    variant: str = "",
    os_name: str = "linux",
) -> TestImage:
    """busybox + one random layer per size (+ a small layer naming the message), in `directory`.

    Different seeds give different layers, so two images share only the busybox layer.
    """
    directory.mkdir(parents=True, exist_ok=True)
    layers = [busybox_layer(directory)]
    for position, size in enumerate(sizes):
        name = f"random-{seed}-{position}-{size}"
        path = directory / f"{name}.tar"
        if path.exists():
            layers.append(Layer(path, sha256_file(path), path.stat().st_size))
        else:
            layers.append(random_layer(directory, name, size, seed * 1000 + position))
    layers.append(
        text_layer(
            directory,
            f"message-{seed}-{architecture}",
            {"etc/message": message.encode(), "etc/arch": architecture.encode()},
        )
    )
    return TestImage(
        layers=layers, message=message, architecture=architecture, variant=variant, os=os_name
    )
