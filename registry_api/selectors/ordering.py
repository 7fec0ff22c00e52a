"""Names are listed in byte order (what "lexical" means in the OCI distribution spec), so `last`
pagination is stable whatever the database's collation: PostgreSQL compares with the "C"
collation, SQLite's default comparison is already binary."""

from __future__ import annotations

from django.db import connection
from django.db.models.functions import Collate


def bytewise(expression):
    if connection.vendor == "postgresql":
        return Collate(expression, "C")
    return expression


def no_nul(value: str) -> str:
    """Names never hold NUL, and PostgreSQL refuses it in a query parameter."""
    return value.replace("\x00", "")
