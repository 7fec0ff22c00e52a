"""import_htpasswd with a real `htpasswd -B` file; make_certs output parsed with cryptography."""

from __future__ import annotations

import shutil
import stat
import subprocess
from io import StringIO

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command

from tests.conftest import PASSWORD, basic_auth

needs_htpasswd = pytest.mark.skipif(shutil.which("htpasswd") is None, reason="apache2-utils")


def _htpasswd(path, username, password, create=False):
    flags = "-cbB" if create else "-bB"
    subprocess.run(["htpasswd", flags, str(path), username, password], check=True)


@needs_htpasswd
def test_import_htpasswd_creates_users_who_keep_their_passwords(tmp_path, db, client):
    path = tmp_path / "htpasswd"
    _htpasswd(path, "frank", "frank-secret-1", create=True)
    _htpasswd(path, "grace", "grace-secret-2")
    with path.open("a") as fh:
        fh.write("# a comment\n\nmd5user:$apr1$abc$defghijklmnopqrstuvwx.\n")
    out, err = StringIO(), StringIO()
    # The entry that cannot become an account is an error (non-zero exit), listed at the end.
    with pytest.raises(CommandError, match="1 entry became no account"):
        call_command("import_htpasswd", str(path), stdout=out, stderr=err)
    assert "Imported 2 new, updated 0, unchanged 0, mapped 0, errors 1." in out.getvalue()
    assert "line 5: 'md5user' is not a bcrypt entry" in err.getvalue()
    User = get_user_model()
    frank = User.objects.get(username="frank")
    assert frank.password.startswith("htpasswd$$2y$")
    assert frank.check_password("frank-secret-1")
    assert not frank.check_password("wrong")
    assert frank.namespace.name == "frank"
    assert not User.objects.filter(username="md5user").exists()
    # The token endpoint accepts the imported password (docker login works unchanged).
    response = client.get("/auth/token", HTTP_AUTHORIZATION=basic_auth("grace", "grace-secret-2"))
    assert response.status_code == 200
    # The first sign-in re-hashes with the preferred hasher; the password still works.
    assert authenticate(username="frank", password="frank-secret-1") == frank
    frank.refresh_from_db()
    assert not frank.password.startswith("htpasswd$")
    assert frank.check_password("frank-secret-1")


@needs_htpasswd
def test_import_htpasswd_updates_existing_users(tmp_path, alice):
    path = tmp_path / "htpasswd"
    _htpasswd(path, "alice", "from-htpasswd", create=True)
    call_command("import_htpasswd", str(path), "--no-update", stdout=StringIO(), stderr=StringIO())
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)
    call_command("import_htpasswd", str(path), stdout=StringIO())
    alice.refresh_from_db()
    assert alice.check_password("from-htpasswd")


def test_import_htpasswd_missing_file(tmp_path, db):
    with pytest.raises(CommandError):
        call_command("import_htpasswd", str(tmp_path / "absent"))


@pytest.mark.parametrize(
    ("hosts", "kind"),
    [(["10.0.0.5"], "ip"), (["::1"], "ip"), (["registry.example.com", "10.1.2.3"], "mixed")],
)
def test_make_certs_writes_a_self_signed_certificate_for_the_hosts_and_a_0600_key(
    tmp_path, hosts, kind
):
    out = tmp_path / "tls"
    args = [arg for host in hosts for arg in ("--host", host)]
    call_command("make_certs", *args, "--out", str(out), stdout=StringIO())
    certificate = x509.load_pem_x509_certificate((out / "cert.pem").read_bytes())
    key = serialization.load_pem_private_key((out / "key.pem").read_bytes(), password=None)
    assert stat.S_IMODE((out / "key.pem").stat().st_mode) == 0o600
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert key.public_key().public_numbers() == certificate.public_key().public_numbers()
    san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    names = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] + san.get_values_for_type(
        x509.DNSName
    )
    assert sorted(names) == sorted(hosts)
    assert certificate.issuer == certificate.subject
    # Self-signed: its own signature verifies with its own key.
    certificate.verify_directly_issued_by(certificate)
    assert certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_make_certs_takes_comma_separated_hosts_and_prints_the_whole_serve_command(tmp_path):
    out, printed = tmp_path / "tls", StringIO()
    call_command(
        "make_certs",
        "--host",
        "registry.lan,10.0.0.5",
        "--port",
        "5443",
        "--out",
        str(out),
        stdout=printed,
    )
    certificate = x509.load_pem_x509_certificate((out / "cert.pem").read_bytes())
    san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["registry.lan"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["10.0.0.5"]
    assert (
        f"HOST=0.0.0.0 PORT=5443 TLS_CERT={out}/cert.pem TLS_KEY={out}/key.pem make run"
        in printed.getvalue()
    )
    assert "certs.d/registry.lan:5443/ca.crt" in printed.getvalue()


def test_make_certs_needs_a_host(tmp_path):
    with pytest.raises(CommandError):
        call_command("make_certs", "--host", " ", "--out", str(tmp_path))
