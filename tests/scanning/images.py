"""Layers for scanning tests: tar files (optionally gzipped) built in memory from a dict."""

from __future__ import annotations

import gzip
import io
import tarfile

DPKG_STATUS = b"""Package: openssl
Status: install ok installed
Priority: optional
Architecture: amd64
Version: 3.0.11-1~deb12u1
Description: Secure Sockets Layer toolkit
 a continuation line

Package: libssl3
Status: install ok installed
Architecture: amd64
Source: openssl (3.0.11-1~deb12u1)
Version: 3.0.11-1~deb12u1

Package: oldpkg
Status: deinstall ok config-files
Version: 1.0
"""

PYTHON_METADATA = b"Metadata-Version: 2.1\nName: x\nVersion: 1.0\n\nName: not-a-header\n"
OS_RELEASE = b'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'

DEBIAN_FILES = {
    "etc/os-release": OS_RELEASE,
    "var/lib/dpkg/status": DPKG_STATUS,
    "usr/lib/python3/site-packages/x-1.0.dist-info/METADATA": PYTHON_METADATA,
}


def tar_layer(files: dict[str, bytes | None], *, compress: bool = True) -> bytes:
    """files: path -> content; None makes a directory."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path, content in files.items():
            info = tarfile.TarInfo(path)
            if content is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    data = buffer.getvalue()
    return gzip.compress(data, mtime=0) if compress else data
