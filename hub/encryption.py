"""Secrets the server must read back (webhook signing secrets, upstream registry passwords) are
stored encrypted with DATA_ENCRYPTION_KEY: a copy of the database alone does not reveal them.

Fernet (AES-128-CBC with HMAC-SHA256). DATA_ENCRYPTION_KEY may list several keys separated by
commas: the first encrypts, all decrypt, so a key can be rotated (`manage.py shell`: re-save).
"""

from __future__ import annotations

import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


class DecryptionFailed(ValueError):
    """A stored value does not decrypt with any configured key (DATA_ENCRYPTION_KEY changed?)."""


@functools.lru_cache(maxsize=4)
def _fernet(keys: str) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.strip()) for key in keys.split(",") if key.strip()])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "DATA_ENCRYPTION_KEY must be one or more comma-separated Fernet keys "
            "(32 url-safe base64-encoded bytes each)."
        ) from exc


def encrypt(text: str) -> str:
    return _fernet(settings.DATA_ENCRYPTION_KEY).encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(settings.DATA_ENCRYPTION_KEY).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionFailed(
            "A stored secret does not decrypt with DATA_ENCRYPTION_KEY; was the key changed?"
        ) from exc


def is_encrypted(value: str) -> bool:
    try:
        decrypt(value)
    except DecryptionFailed:
        return False
    return True


class EncryptedTextField(models.TextField):
    """Text stored encrypted; the model attribute is the plain text. Empty stays empty.

    Encryption is randomised: the column cannot be searched (filter(field=...) never matches).
    """

    def from_db_value(self, value, expression, connection):
        return decrypt(value) if value else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return encrypt(value) if value else value


def encrypt_column(schema_editor, table: str, column: str, *, forward: bool = True) -> None:
    """Migration step: encrypt a column's existing plain values (or, backwards, decrypt them)."""
    quote = schema_editor.quote_name
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {quote(column)} FROM {quote(table)}")  # noqa: S608
        rows = cursor.fetchall()
        for pk, value in rows:
            if not value or is_encrypted(value) == forward:
                continue
            new = encrypt(value) if forward else decrypt(value)
            cursor.execute(
                f"UPDATE {quote(table)} SET {quote(column)} = %s WHERE id = %s",  # noqa: S608
                [new, pk],
            )
