"""A real SMTP server for tests: aiosmtpd on loopback, in a thread, once per module.

`smtp_server` (module-scoped) yields an Inbox: the messages it received and the logins it
accepted (user SMTP_USER, password SMTP_PASSWORD). `Inbox.email_url` is the EMAIL_URL that
reaches it, for the settings of a test or the environment of an end-to-end server.
Import it into a conftest.py to use it:

    from tests.smtp import smtp_server  # noqa: F401
"""

from __future__ import annotations

import email
import re
import threading
import time
from dataclasses import dataclass, field
from email.message import Message
from urllib.parse import quote

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from tests.e2e.server import free_port

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

    @property
    def email_url(self) -> str:
        return f"smtp://{SMTP_USER}:{quote(SMTP_PASSWORD, safe='')}@{self.host}:{self.port}"

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()
            self.logins.clear()

    def wait(self, count: int = 1, timeout: float = 10) -> list[Received]:
        """Wait until `count` messages arrived (a server in another process sends them)."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.messages) >= count, f"{len(self.messages)} of {count} mails arrived"
        return list(self.messages)

    def only(self) -> Received:
        assert len(self.messages) == 1, [m.rcpt_tos for m in self.messages]
        return self.messages[0]


@pytest.fixture(scope="module")
def smtp_server():
    inbox = Inbox(host="127.0.0.1", port=free_port())
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
