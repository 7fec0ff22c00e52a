"""Debian and Ubuntu: `var/lib/dpkg/status` and distroless `var/lib/dpkg/status.d/*`."""

from __future__ import annotations

from scanning.parsers import FoundPackage, stanzas


def dpkg_parse(content: bytes) -> list[FoundPackage]:
    packages = []
    for block in stanzas(content.decode("utf-8", "replace")):
        name, version = block.get("Package", ""), block.get("Version", "")
        status = block.get("Status", "install ok installed")
        if not name or not version or not status.endswith(" installed"):
            continue  # removed packages keep a stanza ("deinstall ok config-files")
        # "Source: openssl (3.0.11-1)" names the source package and, rarely, its own version.
        source = block.get("Source", "").split(" ", 1)[0]
        packages.append(
            FoundPackage(
                "deb", name, version, source_name=source, arch=block.get("Architecture", "")
            )
        )
    return packages
