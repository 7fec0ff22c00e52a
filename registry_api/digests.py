"""Content digests (`<algorithm>:<hex>`): parsing, validation and streaming hashing.

Only sha256 and sha512 are accepted, as the OCI image-spec registers them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from registry_api.errors import DigestInvalid

ALGORITHMS = {"sha256": 64, "sha512": 128}
DEFAULT_ALGORITHM = "sha256"
# The URL converter's grammar (OCI digest grammar); validation below is stricter.
DIGEST_PATTERN = r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+"
_HEX = re.compile(r"[a-f0-9]+")
CHUNK_SIZE = 64 * 1024


@dataclass(frozen=True)
class Digest:
    algorithm: str
    hex: str

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"


def digest_parse(value: str) -> Digest:
    """Return the parsed digest, or raise DigestInvalid (unknown algorithm, bad hex/length)."""
    algorithm, sep, encoded = (value or "").partition(":")
    length = ALGORITHMS.get(algorithm)
    if not sep or length is None or len(encoded) != length or not _HEX.fullmatch(encoded):
        raise DigestInvalid({"digest": (value or "")[:200]}, message="invalid digest")
    return Digest(algorithm, encoded)


def digest_is_valid(value: str) -> bool:
    try:
        digest_parse(value)
    except DigestInvalid:
        return False
    return True


def hasher_new(algorithm: str = DEFAULT_ALGORITHM):
    """Return a fresh hashlib object for a supported algorithm."""
    if algorithm not in ALGORITHMS:
        raise DigestInvalid({"algorithm": algorithm}, message="unsupported digest algorithm")
    return hashlib.new(algorithm)


def digest_bytes(data: bytes, algorithm: str = DEFAULT_ALGORITHM) -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"
