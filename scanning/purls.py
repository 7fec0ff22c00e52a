"""Package URLs (github.com/package-url/purl-spec) for the packages we find."""

from __future__ import annotations

import re
from urllib.parse import quote

from scanning.parsers import FoundPackage


def _q(value: str) -> str:
    return quote(value, safe=".-_~+")


def package_purl(package: FoundPackage, *, distro: str = "", distro_version: str = "") -> str:
    qualifiers = []
    if package.arch:
        qualifiers.append(f"arch={_q(package.arch)}")
    if package.ecosystem in ("deb", "apk", "rpm"):
        namespace = distro or {"deb": "debian", "apk": "alpine", "rpm": "redhat"}[package.ecosystem]
        if distro and distro_version:
            qualifiers.append(f"distro={_q(distro)}-{_q(distro_version)}")
        path = f"{_q(namespace)}/{_q(package.name)}"
    elif package.ecosystem == "pypi":
        path = _q(re.sub(r"[-_.]+", "-", package.name).lower())
    elif package.ecosystem == "npm" and package.name.startswith("@"):
        scope, _, name = package.name.partition("/")
        path = f"{_q(scope)}/{_q(name)}"
    else:
        path = _q(package.name)
    purl = f"pkg:{package.ecosystem}/{path}@{_q(package.version)}"
    return purl + ("?" + "&".join(sorted(qualifiers)) if qualifiers else "")
