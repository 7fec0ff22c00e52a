"""Fetch an OSV export from a configured URL (an `all.zip` or a .json) and import it."""

from __future__ import annotations

import tempfile
from pathlib import Path

import requests
from django.conf import settings

from scanning.osv import osv_documents_read
from scanning.services.advisories import ImportResult, advisories_import


def feed_import(*, url: str) -> ImportResult:
    """Stream the export to a temporary file (never whole in memory), then import it."""
    timeout = settings.OSV_FEED_TIMEOUT_SECONDS
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "feed"
        with requests.get(url, stream=True, timeout=timeout) as response:
            response.raise_for_status()
            with open(path, "wb") as writer:
                for chunk in response.iter_content(1024 * 1024):
                    writer.write(chunk)
        return advisories_import(osv_documents_read(path))
