"""Password reset by e-mail: links on SITE_URL (never the request's Host), one account per
address, forged Host headers refused, and the mailed link really sets a new password."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from config.hosts import allowed_hosts_default
from hub.models import User
from tests import factories
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parent.parent.parent
RESET = "/accounts/password_reset/"
LINK = re.compile(r"(https?://\S+/accounts/reset/\S+/)")


def _mailed_link() -> str:
    assert len(mail.outbox) == 1, [m.to for m in mail.outbox]
    return LINK.search(mail.outbox[0].body).group(1)


def test_a_forged_host_is_refused_by_default(client, alice):
    assert "*" not in django_settings.ALLOWED_HOSTS
    response = client.post(RESET, {"email": alice.email}, HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert mail.outbox == []


def test_reset_link_is_on_the_site_url_whatever_the_host_header(client, alice, settings):
    settings.ALLOWED_HOSTS = ["*"]  # even an administrator who turned the host check off
    settings.SITE_URL = "https://hub.example.com"
    response = client.post(RESET, {"email": alice.email}, HTTP_HOST="evil.example")
    assert response.status_code == 302
    link = _mailed_link()
    assert link.startswith("https://hub.example.com/accounts/reset/")
    assert "evil.example" not in mail.outbox[0].body
    assert mail.outbox[0].to == [alice.email]


def test_reset_link_defaults_to_what_the_server_serves(client, alice, settings):
    settings.SITE_URL = ""
    client.post(RESET, {"email": alice.email.upper()})
    assert _mailed_link().startswith(settings.SITE_URL_DEFAULT + "/accounts/reset/")


def test_the_mailed_link_sets_a_new_password(client, alice):
    page = client.get(reverse("login"))
    assert reverse("password_reset").encode() in page.content
    form = client.get(RESET)
    assert form.status_code == 200 and b'name="email"' in form.content
    response = client.post(RESET, {"email": alice.email}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("password_reset_done")
    assert b"Check your e-mail" in response.content
    path = urlsplit(_mailed_link()).path
    confirm = client.get(path, follow=True)
    assert confirm.status_code == 200 and confirm.context["validlink"]
    set_password_url = confirm.redirect_chain[-1][0]
    new = "a-brand-new-long-phrase"
    done = client.post(set_password_url, {"new_password1": new, "new_password2": new}, follow=True)
    assert done.redirect_chain[-1][0] == reverse("password_reset_complete")
    assert b"Password set" in done.content
    assert client.login(username="alice", password=new)
    client.logout()
    assert not client.login(username="alice", password=PASSWORD)
    # The link works once.
    again = client.get(path, follow=True)
    assert not again.context["validlink"]


def test_unknown_address_answers_the_same_and_mails_nothing(client, alice):
    response = client.post(RESET, {"email": "nobody@example.com"})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []


def test_allowed_hosts_default_names_the_configured_hosts():
    assert allowed_hosts_default("http://127.0.0.1:8000", bind_host="127.0.0.1") == [
        "127.0.0.1",
        "localhost",
        "[::1]",
    ]
    wildcard = allowed_hosts_default("https://hub.example.com", bind_host="0.0.0.0")  # noqa: S104
    assert wildcard[0] == "hub.example.com"
    assert {"localhost", "127.0.0.1", "[::1]"} <= set(wildcard)
    assert allowed_hosts_default("http://[::1]:9000", bind_host="10.1.2.3") == [
        "[::1]",
        "10.1.2.3",
        "localhost",
        "127.0.0.1",
    ]


def test_allowed_hosts_default_adds_the_names_of_the_tls_certificate(tmp_path):
    # `make certs HOST=10.0.0.5` then TLS on 0.0.0.0: clients use the certificate's names.
    call_command(
        "make_certs", "--host", "registry.lan", "--host", "10.0.0.5", "--out", str(tmp_path)
    )
    hosts = allowed_hosts_default(
        "https://127.0.0.1:5000",
        bind_host="0.0.0.0",  # noqa: S104
        tls_cert=str(tmp_path / "cert.pem"),
    )
    assert "registry.lan" in hosts and "10.0.0.5" in hosts
    assert allowed_hosts_default(
        "https://127.0.0.1:5000",
        bind_host="127.0.0.1",
        tls_cert=str(tmp_path / "missing.pem"),
    ) == ["127.0.0.1", "localhost", "[::1]"]


def test_a_server_on_every_address_answers_this_machines_names_and_addresses():
    # registry:2 on 0.0.0.0 answers `docker push 10.0.0.5:5000/centos` without configuration.
    hosts = allowed_hosts_default("http://127.0.0.1:8000", bind_host="0.0.0.0")  # noqa: S104
    assert socket.gethostname().lower() in hosts
    listed = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True).stdout
    addresses = {line.split()[3].split("/")[0] for line in listed.splitlines()}
    assert addresses and addresses <= set(hosts)
    # A fixed bind answers only its own address (and loopback), not the machine's others.
    assert allowed_hosts_default("http://10.1.2.3:8000", bind_host="10.1.2.3") == [
        "10.1.2.3",
        "localhost",
        "127.0.0.1",
        "[::1]",
    ]


def test_settings_derive_site_url_and_allowed_hosts_from_the_environment(tmp_path):
    env = {**os.environ, "DATA_DIR": str(tmp_path), "HOST": "192.0.2.7", "PORT": "9123"}
    for name in ("SITE_URL", "ALLOWED_HOSTS", "DATABASE_URL", "TLS_CERT"):
        env.pop(name, None)
    code = (
        "from django.conf import settings as s; "
        "print(s.SITE_URL_DEFAULT); print(','.join(s.ALLOWED_HOSTS)); print(s.EMAIL_BACKEND)"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()[-3:]
    assert lines[0] == "http://192.0.2.7:9123"
    assert lines[1] == "192.0.2.7,localhost,127.0.0.1,[::1]"
    assert lines[2] == "django.core.mail.backends.filebased.EmailBackend"


# One account per address ----------------------------------------------------------------------


def test_duplicate_email_is_refused_at_sign_up(client, alice):
    response = client.post(
        reverse("accounts:signup"),
        {
            "username": "erin",
            "email": "ALICE@Example.com",
            "password1": "a-long-unusual-phrase",
            "password2": "a-long-unusual-phrase",
        },
    )
    assert response.status_code == 200
    assert "already exists" in str(response.context["form"].errors["email"])
    assert not User.objects.filter(username="erin").exists()


def test_duplicate_email_is_refused_in_the_admin(client, alice, bob):
    operator = factories.UserFactory(username="operator", is_staff=True, is_superuser=True)
    client.force_login(operator)
    url = reverse("admin:hub_user_change", args=[bob.pk])
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "password"}
    data.update(
        email="Alice@example.com",
        date_joined_0=bob.date_joined.strftime("%Y-%m-%d"),
        date_joined_1=bob.date_joined.strftime("%H:%M:%S"),
    )
    data.pop("date_joined", None)
    data.pop("last_login", None)
    for key in ("groups", "user_permissions"):
        data[key] = []
    response = client.post(url, data)
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    bob.refresh_from_db()
    assert bob.email == "bob@example.com"


def test_duplicate_email_is_refused_by_the_model_and_the_database(alice):
    with pytest.raises(ValidationError):
        User(username="erin", email="ALICE@EXAMPLE.COM").full_clean(exclude=["password"])
    with pytest.raises(IntegrityError):
        User.objects.create(username="erin", email="Alice@Example.com")


def test_duplicate_email_is_refused_for_the_first_admin(alice, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "operator")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-unusual-phrase")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "ALICE@example.com")
    with pytest.raises(CommandError, match="e-mail address already exists"):
        call_command("ensure_superuser")
    assert not User.objects.filter(username="operator").exists()


def test_accounts_without_an_email_are_not_duplicates(db):
    User.objects.create(username="erin", email="")
    User.objects.create(username="frank", email="")
    assert User.objects.filter(email="").count() == 2


@pytest.mark.django_db(transaction=True)
def test_migration_keeps_the_oldest_account_on_a_shared_address():
    executor = MigrationExecutor(connection)
    executor.migrate([("hub", "0003_comment_body_max_length")])
    old_state = executor.loader.project_state([("hub", "0003_comment_body_max_length")])
    OldUser = old_state.apps.get_model("hub", "User")
    first = OldUser.objects.create(username="first", email="shared@example.com")
    second = OldUser.objects.create(username="second", email="SHARED@example.com")
    other = OldUser.objects.create(username="other", email="other@example.com")
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    emails = dict(User.objects.values_list("username", "email"))
    assert emails[first.username] == "shared@example.com"
    assert emails[second.username] == ""
    assert emails[other.username] == "other@example.com"
