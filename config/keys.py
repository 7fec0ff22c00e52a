"""Secrets for the embedded default: generated under DATA_DIR on first run, reused afterwards."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    # link() fails if another process won the race; then both use the winner's key.
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)


def secret_key(data_dir: Path) -> str:
    path = data_dir / "secret_key"
    if not path.exists():
        _write_private(path, secrets.token_urlsafe(50).encode())
    return path.read_text().strip()


def token_signing_key(data_dir: Path) -> str:
    """Return a PEM EC P-256 private key for ES256 registry tokens."""
    path = data_dir / "token_signing_key.pem"
    if not path.exists():
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        _write_private(path, pem)
    return path.read_text()


def data_encryption_key(data_dir: Path) -> str:
    """Return the Fernet key that encrypts stored secrets (hub.encryption)."""
    path = data_dir / "data_encryption_key"
    if not path.exists():
        from cryptography.fernet import Fernet

        _write_private(path, Fernet.generate_key())
    return path.read_text().strip()
