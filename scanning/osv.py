"""OSV records (ossf.github.io/osv-schema): reading exports and normalizing what we match on.

An export is a per-ecosystem `all.zip` of one JSON record per file, or a single `.json` file
holding one record (or a list of them). Only ECOSYSTEM and SEMVER ranges and explicit
`versions` lists are kept; GIT ranges name commits, which images do not carry.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from scanning.cvss import cvss3_base_score

MAX_RECORD_BYTES = 16 * 1024 * 1024
SEVERITIES = ("critical", "high", "medium", "low", "unknown")

# OSV ecosystem (before the first ":") -> (purl type, distro ID as in /etc/os-release).
ECOSYSTEMS = {
    "Debian": ("deb", "debian"),
    "Ubuntu": ("deb", "ubuntu"),
    "Alpine": ("apk", "alpine"),
    "PyPI": ("pypi", ""),
    "npm": ("npm", ""),
    "Go": ("golang", ""),
    "Red Hat": ("rpm", "rhel"),
    "Rocky Linux": ("rpm", "rocky"),
    "AlmaLinux": ("rpm", "almalinux"),
}
_WORDS = {
    "critical": "critical",
    "high": "high",
    "important": "high",
    "moderate": "medium",
    "medium": "medium",
    "low": "low",
    "negligible": "low",
}


class OsvInvalid(ValueError):
    """Not an OSV record we can use."""


@dataclass(frozen=True)
class AffectedPackage:
    ecosystem: str
    distro: str
    release: str
    name: str
    ranges: list[list[dict]]  # each range's events, as in the record
    versions: list[str]


@dataclass
class OsvRecord:
    id: str
    modified: datetime
    summary: str
    severity: str
    aliases: list[str]
    withdrawn: bool
    affected: list[AffectedPackage] = field(default_factory=list)


def severity_from_score(score: float) -> str:
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    return "low" if score > 0 else "unknown"


def _severity_entry(entry: dict) -> str | None:
    score = str(entry.get("score", "")).strip()
    if not score:
        return None
    if score.lower() in _WORDS:
        return _WORDS[score.lower()]
    computed = cvss3_base_score(score)
    if computed is None:
        try:
            computed = float(score)
        except ValueError:
            return None  # CVSS v2 and v4 vectors: no calculator here
    return severity_from_score(computed)


def record_severity(document: dict) -> str:
    """database_specific.severity (GHSA words), else a CVSS v3 score, else per-package hints."""
    candidates = [(document.get("database_specific") or {}).get("severity")]
    candidates += [_severity_entry(entry) for entry in document.get("severity") or []
                   if isinstance(entry, dict)]  # fmt: skip
    for affected in document.get("affected") or []:
        if isinstance(affected, dict):
            for block in ("ecosystem_specific", "database_specific"):
                candidates.append((affected.get(block) or {}).get("severity"))
            for entry in affected.get("severity") or []:
                if isinstance(entry, dict):
                    candidates.append(_severity_entry(entry))
    for candidate in candidates:
        if isinstance(candidate, str) and _WORDS.get(candidate.lower()):
            return _WORDS[candidate.lower()]
    return "unknown"


def _timestamp(value) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise OsvInvalid("modified is not an RFC 3339 time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _affected(entry: dict) -> AffectedPackage | None:
    package = entry.get("package") or {}
    ecosystem_name = str(package.get("ecosystem", ""))
    base, _, rest = ecosystem_name.partition(":")
    if base not in ECOSYSTEMS or not package.get("name"):
        return None
    ecosystem, distro = ECOSYSTEMS[base]
    release = rest.split(":", 1)[0].removeprefix("v") if distro else ""
    ranges = [
        [event for event in item.get("events") or [] if isinstance(event, dict)]
        for item in entry.get("ranges") or []
        if isinstance(item, dict) and item.get("type") in ("ECOSYSTEM", "SEMVER")
    ]
    versions = [str(version) for version in entry.get("versions") or []]
    if not any(ranges) and not versions:
        return None
    return AffectedPackage(ecosystem, distro, release, str(package["name"]), ranges, versions)


def osv_record_parse(document) -> OsvRecord:
    if not isinstance(document, dict) or not isinstance(document.get("id"), str):
        raise OsvInvalid("not an OSV record (no id)")
    affected = [
        parsed
        for entry in document.get("affected") or []
        if isinstance(entry, dict) and (parsed := _affected(entry)) is not None
    ]
    return OsvRecord(
        id=document["id"][:100],
        modified=_timestamp(document.get("modified", "1970-01-01T00:00:00Z")),
        summary=str(document.get("summary") or document.get("details") or "")[:500],
        severity=record_severity(document),
        aliases=[str(alias) for alias in document.get("aliases") or []][:50],
        withdrawn=bool(document.get("withdrawn")),
        affected=affected,
    )


def _documents(data: bytes) -> list:
    document = json.loads(data)
    return document if isinstance(document, list) else [document]


def osv_documents_read(path: Path) -> Iterator[dict]:
    """The JSON documents of an export file (zip of records, or one JSON file)."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.filename.endswith(".json") and info.file_size <= MAX_RECORD_BYTES:
                    yield from _documents(archive.read(info))
        return
    if path.stat().st_size > MAX_RECORD_BYTES * 16:
        raise OsvInvalid(f"{path.name}: too large for a single JSON file")
    yield from _documents(path.read_bytes())
