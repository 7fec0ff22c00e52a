"""E-mail that works: EMAIL_URL for every scheme, password reset through a real SMTP server and
the file backend with links on SITE_URL, and a changed address confirmed before it is used."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from config.email import CONSOLE_BACKEND, FILE_BACKEND, SMTP_BACKEND, email_settings
from hub.models import EmailChange, User
from tests.auth.conftest import mail_files
from tests.conftest import PASSWORD
from tests.smtp import SMTP_USER, URL

ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_DIR = Path("/srv/dockyard/mail")
RESET = "/accounts/password_reset/"


def _smtp(host, port, user, password, tls, ssl) -> dict:
    return {
        "EMAIL_BACKEND": SMTP_BACKEND,
        "EMAIL_HOST": host,
        "EMAIL_PORT": port,
        "EMAIL_HOST_USER": user,
        "EMAIL_HOST_PASSWORD": password,
        "EMAIL_USE_TLS": tls,
        "EMAIL_USE_SSL": ssl,
    }


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.com", _smtp("mail.example.com", 25, "", "", False, False)),
        ("smtp://u:p@mail.example.com:2525", _smtp("mail.example.com", 2525, "u", "p", False, False)),  # noqa: E501
        ("SMTP://relay:25", _smtp("relay", 25, "", "", False, False)),
        ("smtp+tls://me%40corp:p%3A%2Fw@smtp.corp", _smtp("smtp.corp", 587, "me@corp", "p:/w", True, False)),  # noqa: E501
        ("smtp+tls://u:p@smtp.corp:2587/", _smtp("smtp.corp", 2587, "u", "p", True, False)),
        ("smtps://u@smtp.corp", _smtp("smtp.corp", 465, "u", "", False, True)),
        ("smtp://[::1]:1025", _smtp("::1", 1025, "", "", False, False)),
        ("console://", {"EMAIL_BACKEND": CONSOLE_BACKEND}),
        ("file://", {"EMAIL_BACKEND": FILE_BACKEND, "EMAIL_FILE_PATH": DEFAULT_DIR}),
        ("file:///var/mail/dy", {"EMAIL_BACKEND": FILE_BACKEND, "EMAIL_FILE_PATH": Path("/var/mail/dy")}),  # noqa: E501
        ("file://localhost/tmp/m", {"EMAIL_BACKEND": FILE_BACKEND, "EMAIL_FILE_PATH": Path("/tmp/m")}),  # noqa: E501, S108
    ],
)  # fmt: skip
def test_email_url_schemes_map_to_django_settings(url, expected):
    assert email_settings(url, default_file_path=DEFAULT_DIR) == expected


@pytest.mark.parametrize(
    "url",
    [
        "",
        "mail.example.com",
        "http://mail.example.com",
        "smtp://",
        "smtp://:secretpw@",
        "smtp://:secretpw@mail.example.com",
        "smtp://mail.example.com:smtp",
        "smtp://mail.example.com:0",
        "smtp://mail.example.com:70000",
        "smtp://mail.example.com/inbox",
        "smtp://u:secretpw@mail.example.com?tls=1",
        "console://stdout",
        "file://mailhost/var/mail",
    ],
)
def test_bad_email_urls_are_refused_naming_the_variable_but_not_the_password(url):
    with pytest.raises(ImproperlyConfigured) as raised:
        email_settings(url, default_file_path=DEFAULT_DIR)
    assert "EMAIL_URL" in str(raised.value)
    assert "secretpw" not in str(raised.value)


def _settings_in_a_new_process(tmp_path, **env_vars) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMAIL_")}
    env.pop("DATABASE_URL", None)
    env.update({"DATA_DIR": str(tmp_path), **env_vars})
    code = "from django.conf import settings as s; print(s.EMAIL_BACKEND, s.EMAIL_FILE_PATH)"
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-v0", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_settings_read_email_url_and_default_to_files_under_data_dir(tmp_path):
    unset = _settings_in_a_new_process(tmp_path)
    assert unset.stdout.split() == [FILE_BACKEND, str(tmp_path / "mail")], unset.stderr
    files = _settings_in_a_new_process(tmp_path, EMAIL_URL="file://")
    assert files.stdout.split() == [FILE_BACKEND, str(tmp_path / "mail")], files.stderr
    bad = _settings_in_a_new_process(tmp_path, EMAIL_URL="smtp://u:hunter2@:25")
    assert bad.returncode != 0
    assert "EMAIL_URL" in bad.stderr and "hunter2" not in bad.stderr


def _set_password_through(client, link: str, new: str):
    confirm = client.get(urlsplit(link).path, follow=True)
    assert confirm.status_code == 200 and confirm.context["validlink"]
    form_url = confirm.redirect_chain[-1][0]
    return client.post(form_url, {"new_password1": new, "new_password2": new}, follow=True)


def test_password_reset_mail_arrives_over_smtp_with_a_working_link_on_site_url(
    client, alice, smtp, settings
):
    settings.SITE_URL = "https://hub.example.com:8443"
    settings.DEFAULT_FROM_EMAIL = "registry@hub.example.com"
    login_page = client.get(reverse("login"))
    assert reverse("password_reset").encode() in login_page.content

    response = client.post(RESET, {"email": "ALICE@example.com"}, HTTP_HOST="localhost")

    assert response.status_code == 302
    received = smtp.only()
    assert received.rcpt_tos == [alice.email]
    assert received.mail_from == "registry@hub.example.com"
    assert smtp.logins == [SMTP_USER]  # the URL's user and percent-encoded password were used
    assert "Reset your password on Dockyard" in received.message["Subject"]
    link = received.link()
    assert link.startswith("https://hub.example.com:8443/accounts/reset/")
    done = _set_password_through(client, link, "a-fresh-long-phrase")
    assert done.redirect_chain[-1][0] == reverse("password_reset_complete")
    assert client.login(username="alice", password="a-fresh-long-phrase")


def test_password_reset_mail_is_written_to_the_mail_directory(client, alice, mail_dir, settings):
    settings.SITE_URL = "http://registry.lan:5000"
    client.post(RESET, {"email": alice.email})
    [written] = mail_files(mail_dir)
    assert f"To: {alice.email}" in written
    link = URL.search(written).group(0)
    assert link.startswith("http://registry.lan:5000/accounts/reset/")
    assert _set_password_through(client, link, "another-long-phrase").status_code == 200
    assert client.login(username="alice", password="another-long-phrase")


# E-mail address change


def _ask_for(client, email: str, password: str = PASSWORD):
    return client.post(reverse("accounts:email-change"), {"email": email, "password": password})


def test_a_changed_address_is_used_only_after_its_link_is_opened(client, alice, smtp, settings):
    settings.SITE_URL = "https://hub.example.com"
    client.force_login(alice)
    assert b"Change e-mail address" in client.get(reverse("accounts:settings")).content

    response = _ask_for(client, "alice.new@example.org")

    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"
    assert EmailChange.objects.get(user=alice).email == "alice.new@example.org"
    received = smtp.only()
    assert received.rcpt_tos == ["alice.new@example.org"]
    link = received.link()
    assert link.startswith("https://hub.example.com/accounts/email/confirm/")
    settings_page = client.get(reverse("accounts:settings"))
    assert b"alice.new@example.org" in settings_page.content  # shown as pending

    # Until confirmed, a password reset for the new address mails nobody.
    client.logout()
    smtp.messages.clear()
    client.post(RESET, {"email": "alice.new@example.org"})
    assert smtp.messages == []

    path = urlsplit(link).path
    page = client.get(path)
    assert page.status_code == 200 and b"Use this address" in page.content
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"  # a GET (a mail scanner) changes nothing
    confirmed = client.post(path)
    assert confirmed.status_code == 302
    alice.refresh_from_db()
    assert alice.email == "alice.new@example.org"
    assert not EmailChange.objects.filter(user=alice).exists()
    again = client.post(path)
    assert again.status_code == 400 and b"This link is invalid" in again.content

    client.post(RESET, {"email": "alice.new@example.org"})
    assert smtp.only().rcpt_tos == ["alice.new@example.org"]


def test_a_newer_request_voids_the_older_link(client, alice):
    client.force_login(alice)
    _ask_for(client, "first@example.org")
    _ask_for(client, "second@example.org")
    first, second = (URL.search(m.body).group(0) for m in mail.outbox)
    assert client.post(urlsplit(first).path).status_code == 400
    assert client.post(urlsplit(second).path).status_code == 302
    alice.refresh_from_db()
    assert alice.email == "second@example.org"


def test_address_change_needs_the_current_password_and_a_free_address(client, alice, bob):
    client.force_login(alice)
    wrong = _ask_for(client, "alice2@example.org", password="not-it")
    assert wrong.status_code == 400 and b"not your current password" in wrong.content
    taken = _ask_for(client, bob.email.upper())
    assert taken.status_code == 400 and b"already exists" in taken.content
    assert mail.outbox == [] and not EmailChange.objects.exists()


def test_an_address_taken_between_request_and_confirm_is_refused(client, alice, bob):
    client.force_login(alice)
    _ask_for(client, "shared@example.org")
    link = URL.search(mail.outbox[0].body).group(0)
    User.objects.filter(pk=bob.pk).update(email="Shared@Example.org")

    response = client.post(urlsplit(link).path)

    assert response.status_code == 400 and b"already exists" in response.content
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"


def test_an_expired_confirmation_link_changes_nothing(client, alice, settings):
    settings.EMAIL_CONFIRM_TTL_SECONDS = 1
    client.force_login(alice)
    _ask_for(client, "late@example.org")
    link = URL.search(mail.outbox[0].body).group(0)
    time.sleep(2.1)
    response = client.post(urlsplit(link).path)
    assert response.status_code == 400
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"


def test_a_tampered_confirmation_link_is_refused(client, alice):
    client.force_login(alice)
    _ask_for(client, "mine@example.org")
    path = urlsplit(URL.search(mail.outbox[0].body).group(0)).path
    forged = path.replace("/confirm/", "/confirm/x")
    assert client.post(forged).status_code == 400
    assert client.post("/accounts/email/confirm/garbage/").status_code == 400
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"


def test_a_refusing_mail_server_is_never_a_500(client, alice, smtp_down):
    reset = client.post(RESET, {"email": alice.email})
    # The same answer as for an unknown address: no hint of which addresses have accounts.
    assert reset.status_code == 302 and reset["Location"] == reverse("password_reset_done")
    client.force_login(alice)
    change = _ask_for(client, "new@example.org")
    assert change.status_code == 400 and b"could not be sent" in change.content
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"
