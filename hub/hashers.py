"""Accept bcrypt hashes imported from an htpasswd file, so users keep their passwords."""

from __future__ import annotations

import bcrypt
from django.contrib.auth.hashers import BasePasswordHasher, mask_hash
from django.utils.crypto import constant_time_compare


class HtpasswdBCryptHasher(BasePasswordHasher):
    """Verify `htpasswd$<$2y$…>` hashes; Django re-hashes with Argon2 at the next sign-in."""

    algorithm = "htpasswd"

    def salt(self) -> str:
        return ""

    def encode(self, password: str, salt: str) -> str:
        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()
        return f"{self.algorithm}${hashed}"

    def decode(self, encoded: str) -> dict:
        algorithm, hashed = encoded.split("$", 1)
        return {"algorithm": algorithm, "hash": hashed, "salt": ""}

    def verify(self, password: str, encoded: str) -> bool:
        hashed = self.decode(encoded)["hash"]
        # bcrypt treats $2y$ (Apache) as $2b$; normalise for older library versions.
        candidate = "$2b$" + hashed[4:] if hashed.startswith("$2y$") else hashed
        try:
            ok = bcrypt.checkpw(password.encode(), candidate.encode())
        except ValueError:
            return False
        return constant_time_compare(str(ok), "True")

    def safe_summary(self, encoded: str) -> dict:
        return {"algorithm": self.algorithm, "hash": mask_hash(self.decode(encoded)["hash"])}

    def must_update(self, encoded: str) -> bool:
        return True

    def harden_runtime(self, password: str, encoded: str) -> None:
        return None
