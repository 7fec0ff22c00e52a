"""The container's HEALTHCHECK: exit 0 when this container does its work, 1 otherwise.

python -m config.health_probe

A container serving HTTP (`dockyard`, `dockyard web`) is healthy when its own /-/ready answers
200. Docker runs the probe beside PID 1, which tells the container's role: a worker or beat
container serves no HTTP and is healthy while that process lives.
"""

from __future__ import annotations

import os
import ssl
import sys
import urllib.error
import urllib.request
from urllib.parse import urlsplit

TIMEOUT_SECONDS = 4


def serves_http() -> bool:
    try:
        with open("/proc/1/cmdline", "rb") as fh:
            argv = fh.read().split(b"\0")
    except OSError:
        return True
    return not any(arg.endswith(b"celery") for arg in argv[:2])


def ready_url() -> str:
    host = (os.environ.get("HOST") or "0.0.0.0").strip("[]")  # noqa: S104
    if host in ("", "0.0.0.0", "::"):  # noqa: S104
        host = "127.0.0.1" if host != "::" else "::1"
    scheme = "https" if os.environ.get("TLS_CERT") else "http"
    netloc = f"[{host}]" if ":" in host else host
    return f"{scheme}://{netloc}:{os.environ.get('PORT') or '5000'}/-/ready"


def main() -> int:
    if not serves_http():
        return 0
    request = urllib.request.Request(ready_url())  # noqa: S310 - this container's own port
    site = urlsplit(os.environ.get("SITE_URL", ""))
    if site.netloc:  # the name ALLOWED_HOSTS is sure to answer
        request.add_header("Host", site.netloc)
    # The container's own certificate, reached by address: nothing to verify it against.
    context = ssl._create_unverified_context() if request.type == "https" else None  # noqa: S323
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS, context=context) as answer:  # noqa: S310
            return 0 if answer.status == 200 else 1
    except urllib.error.HTTPError as exc:
        print(exc.read(2000).decode(errors="replace"), file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"{request.full_url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
