"""Write a self-signed TLS certificate (host in subjectAltName) and its key for gunicorn."""

from __future__ import annotations

import ipaddress
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.core.management.base import BaseCommand, CommandError


def _san(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return x509.DNSName(host)


def _bind_address(hosts: list[str]) -> str:
    """Loopback-only names keep the server on loopback; any other name needs every interface."""
    local = {"localhost", "127.0.0.1", "::1", "[::1]"}
    return "127.0.0.1" if all(h in local for h in hosts) else "0.0.0.0"  # noqa: S104 - printed advice, not a bind


def certificate_create(hosts: list[str], days: int):
    """Return (certificate, key): self-signed, usable both as server certificate and as CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0][:64])])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([_san(h) for h in hosts]), critical=False)
        # CA:TRUE so clients can trust it as its own root (certs.d/…/ca.crt).
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return certificate, key


class Command(BaseCommand):
    help = "Write <out>/cert.pem and <out>/key.pem: a self-signed certificate for --host."

    def add_arguments(self, parser):
        parser.add_argument(
            "--host",
            action="append",
            required=True,
            help="IP address or DNS name clients use (repeat, or separate with commas)",
        )
        parser.add_argument("--port", type=int, default=8000, help="port to serve on (8000)")
        parser.add_argument("--out", type=Path, default=Path("var/tls"), help="directory")
        parser.add_argument("--days", type=int, default=825, help="validity (default 825)")

    def handle(self, *args, host: list[str], out: Path, days: int, port: int, **options):
        hosts = [h.strip() for value in host for h in value.split(",") if h.strip()]
        if not hosts:
            raise CommandError("Give --host with an IP address or a DNS name.")
        if days < 1:
            raise CommandError("--days must be positive.")
        certificate, key = certificate_create(hosts, days)
        out.mkdir(parents=True, exist_ok=True)
        cert_path, key_path = out / "cert.pem", out / "key.pem"
        cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        key_bytes = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key_bytes)
        os.chmod(key_path, 0o600)
        self.stdout.write(
            f"Wrote {cert_path} and {key_path} for {', '.join(hosts)} (valid {days} days).\n"
            # HOST is the bind address of `make run`: clients on other machines need 0.0.0.0.
            f"Serve:   HOST={_bind_address(hosts)} PORT={port} "
            f"TLS_CERT={cert_path} TLS_KEY={key_path} make run\n"
            f"Clients: copy {cert_path} to /etc/docker/certs.d/{hosts[0]}:{port}/ca.crt"
        )
