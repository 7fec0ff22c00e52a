"""Language packages: Python `*.dist-info/METADATA` (and `*.egg-info/PKG-INFO`), npm
`node_modules/<name>/package.json`."""

from __future__ import annotations

import json

from scanning.parsers import FoundPackage


def python_metadata_parse(content: bytes) -> list[FoundPackage]:
    """Name and Version from the header block of core metadata (an email-style message)."""
    fields: dict[str, str] = {}
    for line in content.decode("utf-8", "replace").splitlines():
        if not line.strip():
            break  # the description body follows the headers
        key, sep, value = line.partition(":")
        if sep and key in ("Name", "Version"):
            fields.setdefault(key, value.strip())
    if fields.get("Name") and fields.get("Version"):
        return [FoundPackage("pypi", fields["Name"], fields["Version"])]
    return []


def npm_package_parse(content: bytes) -> list[FoundPackage]:
    try:
        document = json.loads(content)
    except ValueError:
        return []
    if not isinstance(document, dict):
        return []
    name, version = document.get("name"), document.get("version")
    if isinstance(name, str) and isinstance(version, str) and name and version:
        return [FoundPackage("npm", name, version)]
    return []
