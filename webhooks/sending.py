"""One HTTP POST to a webhook receiver: short timeouts, no redirects, a bounded response read."""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import dataclass

import requests
from django.conf import settings

from webhooks.url_safety import BlockedAddress, GuardedAdapter, private_targets_allowed

RESPONSE_EXCERPT_BYTES = 2048
USER_AGENT = "Dockyard-Webhooks/1.0"


@dataclass
class SendResult:
    status_code: int | None
    duration_ms: int
    excerpt: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxies or netrc from the worker's environment
    adapter = GuardedAdapter(max_retries=0, allow_private=private_targets_allowed)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _read_excerpt(response: requests.Response) -> str:
    chunks, size = [], 0
    for chunk in response.iter_content(chunk_size=1024):
        chunks.append(chunk)
        size += len(chunk)
        if size >= RESPONSE_EXCERPT_BYTES:
            break
    return b"".join(chunks)[:RESPONSE_EXCERPT_BYTES].decode("utf-8", errors="replace")


def http_post(url: str, *, body: bytes, headers: dict[str, str]) -> SendResult:
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    started = time.monotonic()
    try:
        with _session() as session:
            response = session.post(
                url,
                data=body,
                headers={"User-Agent": USER_AGENT, **headers},
                timeout=(min(5, timeout), timeout),
                allow_redirects=False,
                stream=True,
            )
            with response:
                try:
                    excerpt = _read_excerpt(response)
                except requests.RequestException:
                    excerpt = ""
            error = ""
            if 300 <= response.status_code < 400:
                location = response.headers.get("Location", "")[:200]
                error = f"HTTP {response.status_code} redirect to {location!r} not followed"
            elif not 200 <= response.status_code < 300:
                error = f"HTTP {response.status_code}"
            return SendResult(response.status_code, _ms(started), excerpt, error)
    except requests.Timeout:
        return SendResult(None, _ms(started), error=f"timed out after {timeout}s")
    except requests.RequestException as exc:
        return SendResult(None, _ms(started), error=_describe(exc))


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _describe(exc: Exception) -> str:
    """A short reason for the attempt log: the root cause, not urllib3's wrapping of it."""
    seen, cause = [], exc
    while cause is not None and cause not in seen:
        seen.append(cause)
        reason = getattr(cause, "reason", None)
        cause = (
            cause.__cause__
            or cause.__context__
            or (reason if isinstance(reason, BaseException) else None)
        )
    for error in reversed(seen):
        if isinstance(error, BlockedAddress):
            return str(error)
        if isinstance(error, ConnectionRefusedError):
            return "connection refused"
        if isinstance(error, socket.gaierror):
            return "the host name does not resolve"
        if isinstance(error, ssl.SSLError):
            return f"TLS error: {error}"[:500]
    root = seen[-1]
    return (str(root) or type(root).__name__)[:500]
