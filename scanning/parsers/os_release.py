"""`etc/os-release`: the distribution's ID and VERSION_ID (debian 12, alpine 3.19.1)."""

from __future__ import annotations


def os_release_parse(content: bytes) -> tuple[str, str]:
    fields = {}
    for line in content.decode("utf-8", "replace").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            fields[key.strip()] = value.strip().strip("\"'")
    return fields.get("ID", "").lower(), fields.get("VERSION_ID", "")
