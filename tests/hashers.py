"""A real password hasher that counts its checks, for tests that bound how many checks run."""

from __future__ import annotations

import threading
import time

from django.contrib.auth.hashers import MD5PasswordHasher


class CountingPasswordHasher(MD5PasswordHasher):
    """MD5 (fast), counting verify() calls; `delay` makes each check last like a slow hash."""

    algorithm = "counting_md5"
    calls = 0
    delay = 0.0
    _lock = threading.Lock()

    def verify(self, password: str, encoded: str) -> bool:
        with CountingPasswordHasher._lock:
            CountingPasswordHasher.calls += 1
        if CountingPasswordHasher.delay:
            time.sleep(CountingPasswordHasher.delay)
        return super().verify(password, encoded)

    @classmethod
    def reset(cls, *, delay: float = 0.0) -> None:
        cls.calls, cls.delay = 0, delay
