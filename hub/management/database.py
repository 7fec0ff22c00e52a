"""Which database a management command writes, said before it writes (never the password)."""

from __future__ import annotations

from pathlib import Path

from django.db import connections


def describe_database(database: dict) -> str:
    """`sqlite /srv/dockyard/var/db.sqlite3` or `postgresql dockyard@db.internal:5432/dockyard`
    for a DATABASES entry."""
    engine = database["ENGINE"].rsplit(".", 1)[-1]
    name = str(database.get("NAME") or "")
    if engine == "sqlite3":
        in_memory = name in ("", ":memory:") or name.startswith("file:")
        return f"sqlite {name if in_memory else Path(name).resolve()}"
    user = f"{database['USER']}@" if database.get("USER") else ""
    host = database.get("HOST") or "localhost"
    port = f":{database['PORT']}" if database.get("PORT") else ""
    return f"{engine} {user}{host}{port}/{name}"


def database_description(alias: str = "default") -> str:
    return describe_database(connections[alias].settings_dict)
