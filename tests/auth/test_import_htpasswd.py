"""import_htpasswd keeps everyone: names registry:2 allowed but our grammar refuses are mapped
(and the mapping reported), collisions refuse the import before any write, and a mapped user
signs in to /v2/ with the original password."""

from __future__ import annotations

import shutil
import subprocess
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from hub.services.htpasswd import username_map
from tests.conftest import PASSWORD, basic_auth

pytestmark = pytest.mark.skipif(shutil.which("htpasswd") is None, reason="apache2-utils")


def _htpasswd(path, users: dict[str, str]) -> None:
    """A real `htpasswd -B` file with these users, in this order."""
    for position, (username, password) in enumerate(users.items()):
        flags = "-cbB" if position == 0 else "-bB"
        subprocess.run(["htpasswd", flags, str(path), username, password], check=True)


def run(path, *args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("import_htpasswd", str(path), *args, stdout=out, stderr=err)
    finally:
        run.out, run.err = out.getvalue(), err.getvalue()
    return out.getvalue(), err.getvalue()


def _usernames() -> set[str]:
    return set(get_user_model().objects.values_list("username", flat=True))


@pytest.mark.parametrize(
    ("name", "username"),
    [
        ("Admin.User", "admin.user"),
        ("john@corp", "john-corp"),
        ("First Last", "first-last"),
        ("First   Last", "first-last"),
        ("Jürgen", "jurgen"),
        ("-Bob.-_Smith.", "bob.smith"),
        ("ops_team", "ops_team"),  # already valid: unchanged
        ("a__b", "a__b"),
        ("张三", ""),
        ("@@", ""),
        ("x" * 65, ""),
    ],
)
def test_username_map(name, username):
    assert username_map(name) == username


def test_mapped_names_are_reported_and_sign_in_to_v2_with_their_password(tmp_path, db, client):
    path = tmp_path / "htpasswd"
    _htpasswd(path, {"Admin.User": "pw-admin-1", "john@corp": "pw-john-2", "First Last": "pw-3"})
    out, _ = run(path)
    assert out.splitlines()[:3] == [
        "Admin.User -> admin.user",
        "john@corp -> john-corp",
        "First Last -> first-last",
    ]
    assert "Imported 3 new, updated 0, unchanged 0, mapped 3, errors 0." in out
    assert _usernames() == {"admin.user", "john-corp", "first-last"}
    # What docker login does against a registry:2-style /v2/: Basic credentials.
    assert (
        client.get("/v2/", HTTP_AUTHORIZATION=basic_auth("admin.user", "pw-admin-1")).status_code
        == 200
    )
    assert (
        client.get("/v2/", HTTP_AUTHORIZATION=basic_auth("first-last", "pw-3")).status_code == 200
    )
    assert (
        client.get("/v2/", HTTP_AUTHORIZATION=basic_auth("admin.user", "pw-john-2")).status_code
        == 401
    )
    token = client.get("/auth/token", HTTP_AUTHORIZATION=basic_auth("john-corp", "pw-john-2"))
    assert token.status_code == 200 and token.json()["token"]


def test_two_names_mapping_to_one_username_refuse_everything(tmp_path, db):
    path = tmp_path / "htpasswd"
    _htpasswd(path, {"carol": "pw-1", "Admin.User": "pw-2", "admin.user": "pw-3"})
    with pytest.raises(CommandError, match="1 name collision"):
        run(path)
    assert "'Admin.User' (line 2), 'admin.user' (line 3) would all become admin.user" in run.err
    assert _usernames() == set()  # not even carol: nothing is written


def test_a_mapped_name_never_takes_over_an_existing_account(tmp_path, alice):
    path = tmp_path / "htpasswd"
    _htpasswd(path, {"Alice": "not-alices-password"})
    with pytest.raises(CommandError, match="collision"):
        run(path)
    assert "'Alice' -> alice: the account alice already exists and is someone else's" in run.err
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


@pytest.mark.parametrize(
    ("name", "why"),
    [("Admin", "This name is reserved."), ("ACME", "acme is an organization")],
)
def test_a_mapped_name_that_is_reserved_or_an_organization_is_refused(tmp_path, acme, name, why):
    path = tmp_path / "htpasswd"
    _htpasswd(path, {"erin": "pw-1", name: "pw-2"})
    with pytest.raises(CommandError, match="collision"):
        run(path)
    assert f"'{name}' -> {name.lower()}: {why}" in run.err
    assert "erin" not in _usernames()


def test_a_name_that_cannot_be_mapped_is_an_error_and_the_rest_is_imported(tmp_path, db):
    path = tmp_path / "htpasswd"
    _htpasswd(path, {"张三": "pw-1", "Frank": "pw-2"})
    with pytest.raises(CommandError, match="1 entry became no account"):
        run(path)
    assert "line 1: '张三' cannot be made a valid username" in run.err
    assert _usernames() == {"frank"}


def test_a_second_run_recognises_the_accounts_it_made(tmp_path, db):
    path = tmp_path / "htpasswd"
    _htpasswd(path, {"Admin.User": "pw-1"})
    run(path)
    out, _ = run(path)
    assert "Imported 0 new, updated 0, unchanged 1, mapped 1, errors 0." in out
    assert _usernames() == {"admin.user"}


def test_dry_run_reports_and_writes_nothing(tmp_path, db):
    path = tmp_path / "htpasswd"
    _htpasswd(path, {"Admin.User": "pw-1", "grace": "pw-2"})
    out, _ = run(path, "--dry-run")
    assert "Admin.User -> admin.user" in out and "would create admin.user" in out
    assert "Dry run: would import 2 new" in out
    assert _usernames() == set()
