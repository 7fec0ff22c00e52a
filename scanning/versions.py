"""Version comparison per ecosystem: dpkg (python-debian), PyPI (packaging), apk and semver.

`version_compare(ecosystem, a, b)` returns -1, 0 or 1. Ecosystems are purl types (deb, apk, rpm,
pypi, npm, golang). A version one scheme cannot parse falls back to a plain string comparison,
so a strange version never breaks a scan; it may only match less precisely.
"""

from __future__ import annotations

import re
from functools import cmp_to_key

from debian.debian_support import version_compare as dpkg_compare
from packaging.version import InvalidVersion, Version


def _sign(value: int) -> int:
    return (value > 0) - (value < 0)


def _plain(a: str, b: str) -> int:
    return (a > b) - (a < b)


def pypi_compare(a: str, b: str) -> int:
    try:
        left, right = Version(a), Version(b)
    except InvalidVersion:
        return _plain(a, b)
    return (left > right) - (left < right)


# semver.org 2.0.0 (npm and Go; Go's versions carry a leading "v" that OSV drops).
_SEMVER_RE = re.compile(
    r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$"
)


def _prerelease_compare(a: str, b: str) -> int:
    if a == b:
        return 0
    if not a or not b:  # a release sorts after its prereleases
        return 1 if not a else -1
    for left, right in zip(a.split("."), b.split("."), strict=False):
        if left == right:
            continue
        if left.isdigit() and right.isdigit():
            return _sign(int(left) - int(right))
        if left.isdigit() != right.isdigit():
            return -1 if left.isdigit() else 1  # numeric identifiers sort first
        return _plain(left, right)
    return _sign(len(a.split(".")) - len(b.split(".")))


def semver_compare(a: str, b: str) -> int:
    left, right = _SEMVER_RE.match(a.strip()), _SEMVER_RE.match(b.strip())
    if not left or not right:
        return _plain(a, b)
    left_core = [int(part or 0) for part in left.groups()[:3]]
    right_core = [int(part or 0) for part in right.groups()[:3]]
    if left_core != right_core:
        return -1 if left_core < right_core else 1
    return _prerelease_compare(left.group(4) or "", right.group(4) or "")


# Alpine (apk-tools version.c): numbers.numbers[letter][_suffix[N]]...[~hash][-rN].
_APK_RE = re.compile(r"^(\d+(?:\.\d+)*)([a-z]?)((?:_[a-z]+\d*)*)(?:~[0-9a-f]+)?(?:-r(\d+))?$")
_APK_SUFFIX_RANK = {"alpha": -4, "beta": -3, "pre": -2, "rc": -1, "cvs": 1, "svn": 2, "git": 3,
                    "hg": 4, "p": 5}  # fmt: skip


def _apk_key(version: str):
    match = _APK_RE.match(version.strip())
    if not match:
        return None
    numbers, letter, suffixes, revision = match.groups()
    suffix_key = []
    for suffix in filter(None, suffixes.split("_")):
        name = suffix.rstrip("0123456789")
        number = suffix[len(name) :]
        suffix_key.append((_APK_SUFFIX_RANK.get(name, 0), int(number or 0)))
    suffix_key.append((0, 0))  # no (more) suffix sorts between pre-release and post suffixes
    return ([int(part) for part in numbers.split(".")], letter, suffix_key, int(revision or 0))


def apk_compare(a: str, b: str) -> int:
    left, right = _apk_key(a), _apk_key(b)
    if left is None or right is None:
        return _plain(a, b)
    return (left > right) - (left < right)


def rpm_compare(a: str, b: str) -> int:
    """rpmvercmp on [epoch:]version[-release]: alternating digit and letter runs."""

    def split(value: str) -> tuple[int, str]:
        epoch, _, rest = value.rpartition(":")
        return (int(epoch) if epoch.isdigit() else 0), rest

    (left_epoch, left), (right_epoch, right) = split(a), split(b)
    if left_epoch != right_epoch:
        return _sign(left_epoch - right_epoch)
    left_parts = re.findall(r"\d+|[a-zA-Z]+|~", left)
    right_parts = re.findall(r"\d+|[a-zA-Z]+|~", right)
    for lp, rp in zip(left_parts, right_parts, strict=False):
        if lp == rp:
            continue
        if "~" in (lp, rp):
            return -1 if lp == "~" else 1
        if lp.isdigit() and rp.isdigit():
            return _sign(int(lp) - int(rp))
        if lp.isdigit() != rp.isdigit():
            return 1 if lp.isdigit() else -1
        return _plain(lp, rp)
    if len(left_parts) == len(right_parts):
        return 0
    longer_is_left = len(left_parts) > len(right_parts)
    extra = (left_parts if longer_is_left else right_parts)[min(len(left_parts), len(right_parts))]
    # What is left makes the longer version newer, except a tilde (a pre-release).
    newer = -1 if extra == "~" else 1
    return newer if longer_is_left else -newer


_COMPARATORS = {
    "deb": lambda a, b: _sign(dpkg_compare(a, b)),
    "pypi": pypi_compare,
    "npm": semver_compare,
    "golang": semver_compare,
    "apk": apk_compare,
    "rpm": rpm_compare,
}


def version_compare(ecosystem: str, a: str, b: str) -> int:
    compare = _COMPARATORS.get(ecosystem, _plain)
    try:
        return compare(a, b)
    except ValueError:  # python-debian refuses some malformed versions
        return _plain(a, b)


def version_sort_key(ecosystem: str):
    return cmp_to_key(lambda a, b: version_compare(ecosystem, a, b))
