"""Mail for the account tests: a real SMTP server on loopback (tests/smtp.py), reached through
EMAIL_URL, and the file backend, as the default writes under DATA_DIR/mail."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.email import email_settings
from tests.smtp import smtp_server  # noqa: F401 - module fixture


@pytest.fixture
def smtp(smtp_server, settings, tmp_path):  # noqa: F811
    """Send this test's mail to the loopback SMTP server, configured through EMAIL_URL."""
    for name, value in email_settings(smtp_server.email_url, default_file_path=tmp_path).items():
        setattr(settings, name, value)
    smtp_server.clear()
    return smtp_server


@pytest.fixture
def mail_dir(settings, tmp_path) -> Path:
    """Write this test's mail as files, as the default (DATA_DIR/mail) does."""
    directory = tmp_path / "mail"
    for name, value in email_settings(f"file://{directory}", default_file_path=tmp_path).items():
        setattr(settings, name, value)
    return directory


def mail_files(directory: Path) -> list[str]:
    return [path.read_text() for path in sorted(directory.glob("*.log"))]


@pytest.fixture
def smtp_down(settings, tmp_path):
    """EMAIL_URL names a loopback port nobody listens on: every send is refused."""
    from tests.e2e.server import free_port

    url = f"smtp://127.0.0.1:{free_port()}"
    for name, value in email_settings(url, default_file_path=tmp_path).items():
        setattr(settings, name, value)
    settings.EMAIL_TIMEOUT = 2
