"""Mail from a running Dockyard (scripts/run.sh, gunicorn): password reset and invitations over a
real SMTP server on loopback (EMAIL_URL), and, by default, files under DATA_DIR/mail."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest
import requests

from tests.conftest import PASSWORD
from tests.e2e.conftest import server_env
from tests.e2e.server import Server, drop_throwaway_database
from tests.smtp import URL, smtp_server  # noqa: F401 - module fixture

CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(scope="module")
def private_server(tmp_path_factory, smtp_server):  # noqa: F811
    """The private profile (sign-up closed), mailing through the loopback SMTP server."""
    env = server_env(tmp_path_factory, REGISTRY_PROFILE="private", EMAIL_URL=smtp_server.email_url)
    instance = Server(tmp_path_factory.mktemp("dockyard-mail"), env=env)
    instance.env["SITE_URL"] = instance.url  # links must lead back to this very server
    instance.start()
    yield instance
    instance.stop()
    drop_throwaway_database(env["DATABASE_URL"])


def _post_form(session: requests.Session, url: str, data: dict) -> requests.Response:
    """GET the page for its CSRF token, then POST the form to the page it ended on."""
    page = session.get(url, timeout=30)
    page.raise_for_status()
    token = CSRF.search(page.content).group(1).decode()
    return session.post(
        page.url, {"csrfmiddlewaretoken": token, **data}, headers={"Referer": page.url}, timeout=30
    )


def _set_email(server: Server, username: str, email: str) -> None:
    server.python(
        "from django.contrib.auth import get_user_model\n"
        f"get_user_model().objects.filter(username={username!r}).update(email={email!r})\n"
    )


def _password_works(server: Server, username: str, password: str) -> bool:
    response = requests.get(f"{server.url}/v2/", auth=(username, password), timeout=30)
    return response.status_code == 200


def _reset_password(server: Server, email: str, link_of) -> str:
    session = requests.Session()
    asked = _post_form(session, f"{server.url}/accounts/password_reset/", {"email": email})
    assert asked.status_code == 200 and "/accounts/password_reset/done/" in asked.url
    link = link_of()
    new = "reset-from-a-real-mail-1"
    done = _post_form(session, link, {"new_password1": new, "new_password2": new})
    assert done.status_code == 200 and done.url.endswith("/accounts/reset/done/"), done.url
    return new


def test_password_reset_over_smtp_with_a_link_on_site_url(private_server, smtp_server):  # noqa: F811
    private_server.create_user("erika", PASSWORD)
    _set_email(private_server, "erika", "erika@example.org")
    smtp_server.clear()

    def link_of() -> str:
        [received] = smtp_server.wait(1)
        assert received.rcpt_tos == ["erika@example.org"]
        return received.link()

    new = _reset_password(private_server, "erika@example.org", link_of)

    assert urlsplit(smtp_server.messages[0].link()).netloc == private_server.address
    assert _password_works(private_server, "erika", new)
    assert not _password_works(private_server, "erika", PASSWORD)


def test_sign_up_is_closed_and_an_administrator_s_invitation_by_mail_opens_the_organization(
    private_server,
    smtp_server,  # noqa: F811
):
    page = requests.get(f"{private_server.url}/accounts/signup/", timeout=30)
    assert page.status_code == 403 and b"Sign-up is closed" in page.content
    # With sign-up closed, only an administrator's invitation creates an account.
    private_server.create_user("owen", PASSWORD, superuser=True)
    owner = requests.Session()
    owner.auth = ("owen", PASSWORD)
    api = f"{private_server.url}/api/v1"
    assert owner.post(f"{api}/orgs/", json={"name": "mailco"}, timeout=30).status_code == 201
    smtp_server.clear()

    sent = owner.post(
        f"{api}/orgs/mailco/invitations/",
        json={"email": "ines@example.org", "role": "member", "send": True},
        timeout=30,
    )

    assert sent.status_code == 201, sent.text
    [received] = smtp_server.wait(1)
    link = received.link()
    assert link == sent.json()["url"] and link.startswith(private_server.url + "/accounts/invite/")
    invitee = requests.Session()
    account = {"username": "ines", "email": "ines@example.org"}
    passwords = {"password1": "invited-long-phrase", "password2": "invited-long-phrase"}
    created = _post_form(invitee, link, {**account, **passwords})
    assert created.status_code == 200 and created.url.endswith("/orgs/mailco/members/")
    members = owner.get(f"{api}/orgs/mailco/members/", timeout=30).json()["results"]
    assert {"username": "ines", "role": "member"}.items() <= next(
        m for m in members if m["username"] == "ines"
    ).items()
    again = requests.get(link, timeout=30)
    assert again.status_code == 410


def test_by_default_mails_are_files_under_data_dir_mail(server):
    server.create_user("fiona", PASSWORD)
    _set_email(server, "fiona", "fiona@example.org")
    mail_dir = server.data_dir / "mail"

    def link_of() -> str:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for path in sorted(mail_dir.glob("*.log")):
                text = path.read_text()
                if "To: fiona@example.org" in text:
                    return URL.search(text).group(0)
            time.sleep(0.1)
        raise AssertionError(f"no mail for fiona in {mail_dir}")

    new = _reset_password(server, "fiona@example.org", link_of)

    assert _password_works(server, "fiona", new)
