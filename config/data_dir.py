"""DATA_DIR is private to the service's account: the database, blobs, uploads, keys and cache.

The database holds webhook secrets and proxy-cache credentials (encrypted, see hub.encryption),
blobs may be private images: nobody else on the host needs to read any of it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

# New files 0600, new directories 0700, in every process that loads the settings.
PRIVATE_UMASK = 0o077


def restrict(root: Path) -> None:
    """Take group and other permissions off everything under `root`, once.

    Files made before the umask was set (older versions) are fixed on the first start; `root`
    is fixed last, so a private `root` means the walk already ran and later starts skip it.
    """
    try:
        if not stat.S_IMODE(root.lstat().st_mode) & PRIVATE_UMASK:
            return
    except FileNotFoundError:
        return
    for directory, subdirectories, files in os.walk(root, topdown=False):
        for name in [*files, *subdirectories]:
            _private(Path(directory) / name)
    _private(root)


def _private(path: Path) -> None:
    try:
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode) or not stat.S_IMODE(info.st_mode) & PRIVATE_UMASK:
            return
        os.chmod(path, stat.S_IMODE(info.st_mode) & ~PRIVATE_UMASK)
    except (FileNotFoundError, PermissionError):
        pass  # gone meanwhile, or not ours to change
