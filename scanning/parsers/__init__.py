"""Package database parsers: pure functions from one file's bytes to the packages it lists.

Each takes the file's content (already capped by the layer reader) and never raises on bad
input: a damaged database yields what could be read.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FoundPackage:
    ecosystem: str  # a purl type: deb, apk, rpm, pypi, npm
    name: str
    version: str
    source_name: str = ""  # the source package (dpkg Source, apk origin, rpm SRPM)
    arch: str = ""


def stanzas(text: str):
    """Blank-line separated blocks of `Key: value` lines (dpkg status), as dicts."""
    block: dict[str, str] = {}
    last = ""
    for line in text.splitlines():
        if not line.strip():
            if block:
                yield block
            block, last = {}, ""
        elif line[0] in " \t":
            if last:
                block[last] += "\n" + line.strip()
        else:
            key, sep, value = line.partition(":")
            if sep:
                last = key.strip()
                block[last] = value.strip()
    if block:
        yield block
