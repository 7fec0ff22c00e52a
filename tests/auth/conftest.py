"""A real SMTP server on loopback (aiosmtpd), once per module, and helpers to read mail back
from it and from the file backend."""

from __future__ import annotations

import email
import re
import socket
import threading
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from config.email import email_settings

SMTP_USER, SMTP_PASSWORD = "robot", "p@ss:word"
URL = re.compile(r"https?://\S+")


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: Message

    @property
    def body(self) -> str:
        return self.message.get_payload(decode=True).decode()

    def link(self) -> str:
        return URL.search(self.body).group(0)


@dataclass
class Inbox:
    host: str
    port: int
    messages: list[Received] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    # aiosmtpd handler hooks (called on the server's thread)
    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        message = email.message_from_bytes(envelope.original_content)
        with self.lock:
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == SMTP_USER.encode() and auth_data.password == SMTP_PASSWORD.encode()
        if ok:
            with self.lock:
                self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok)

    def only(self) -> Received:
        assert len(self.messages) == 1, [m.rcpt_tos for m in self.messages]
        return self.messages[0]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def smtp_server():
    inbox = Inbox(host="127.0.0.1", port=_free_port())
    controller = Controller(
        inbox,
        hostname=inbox.host,
        port=inbox.port,
        authenticator=inbox.authenticate,
        auth_require_tls=False,  # loopback only; TLS is not what these tests are about
    )
    controller.start()
    yield inbox
    controller.stop()


@pytest.fixture
def smtp(smtp_server, settings, tmp_path):
    """Send this test's mail to the loopback SMTP server, configured through EMAIL_URL."""
    url = f"smtp://{SMTP_USER}:p%40ss%3Aword@{smtp_server.host}:{smtp_server.port}"
    for name, value in email_settings(url, default_file_path=tmp_path).items():
        setattr(settings, name, value)
    with smtp_server.lock:
        smtp_server.messages.clear()
        smtp_server.logins.clear()
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
