"""Alpine: `lib/apk/db/installed`, one block per package of one-letter keys (P:name, V:version,
o:origin, A:arch)."""

from __future__ import annotations

from scanning.parsers import FoundPackage


def apk_parse(content: bytes) -> list[FoundPackage]:
    packages, fields = [], {}
    for line in [*content.decode("utf-8", "replace").splitlines(), ""]:
        if not line.strip():
            if fields.get("P") and fields.get("V"):
                packages.append(
                    FoundPackage(
                        "apk",
                        fields["P"],
                        fields["V"],
                        source_name=fields.get("o", ""),
                        arch=fields.get("A", ""),
                    )  # fmt: skip
                )
            fields = {}
        elif len(line) > 1 and line[1] == ":":
            fields.setdefault(line[0], line[2:].strip())
    return packages
