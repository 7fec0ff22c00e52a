"""Environment parsing for settings: every bad value stops start-up naming its variable.

read_env() first fills the environment from the project's `.env` file (the real environment
wins), so settings, gunicorn's configuration, Celery, manage.py and scripts/run.sh all see it.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from dotenv.parser import parse_stream
from environs import Env, EnvError

PROJECT_DIR = Path(__file__).resolve().parent.parent
# Names the env file to read instead of PROJECT_DIR/.env; empty reads none.
ENV_FILE_VARIABLE = "DOCKYARD_ENV_FILE"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

_env = Env()


def env_file() -> Path | None:
    """The file read_env() reads: DOCKYARD_ENV_FILE when set, else the project's `.env`, except
    under pytest (PYTEST_VERSION is set there, and in the servers tests start), so that a
    developer's own `.env` never changes what a test run does."""
    chosen = os.environ.get(ENV_FILE_VARIABLE)
    if chosen is not None:
        return Path(chosen) if chosen else None
    if os.environ.get("PYTEST_VERSION"):
        return None
    return PROJECT_DIR / ".env"


def env_file_values(path: Path) -> dict[str, str]:
    """NAME=value lines (`export NAME=value`, quotes and `# comments` as a shell writes them;
    values are taken literally, without ${VAR} expansion). A line that is not an assignment
    stops start-up naming the file and the line."""
    values = {}
    with open(path, encoding="utf-8") as stream:
        for binding in parse_stream(stream):
            text = binding.original.string
            blank_lines = text[: len(text) - len(text.lstrip())].count("\n")
            line = binding.original.line + blank_lines
            if binding.key is None and not binding.error:
                continue  # blank lines and comments
            if binding.error or binding.value is None or not _NAME.match(binding.key):
                raise ImproperlyConfigured(
                    f"{path}, line {line}: {text.strip()!r} is not a NAME=value assignment"
                )
            values[binding.key] = binding.value
    return values


def read_env() -> dict[str, str]:
    """Set each variable the env file gives a value that the environment does not have yet
    (a variable set in the environment, even to nothing, wins; an empty value in the file means
    "not set"). A missing project `.env` is fine; a missing DOCKYARD_ENV_FILE is an error.
    Returns the variables it set."""
    path = env_file()
    if path is None or (not path.exists() and ENV_FILE_VARIABLE not in os.environ):
        return {}
    try:
        values = env_file_values(path)
    except OSError as exc:
        raise ImproperlyConfigured(f"Cannot read {path}: {exc.strerror}") from exc
    added = {name: value for name, value in values.items() if value and name not in os.environ}
    os.environ.update(added)
    return added


def _unset_if_empty(name: str) -> None:
    # `NAME=` in a shell or an env file means "not set", not "set to nothing".
    if os.environ.get(name) == "":
        del os.environ[name]


def _read(kind: str, name: str, default):
    _unset_if_empty(name)
    try:
        return getattr(_env, kind)(name, default)
    except EnvError as exc:
        raise ImproperlyConfigured(f"Environment variable {name} is invalid: {exc}") from exc


def env_str(name: str, default: str) -> str:
    return _read("str", name, default)


def env_bool(name: str, default: bool) -> bool:
    return _read("bool", name, default)


def env_int(name: str, default: int) -> int:
    return _read("int", name, default)


def env_float(name: str, default: float) -> float:
    return _read("float", name, default)


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(name, default).strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(
            f"Environment variable {name} is invalid: {value!r} is not one of {', '.join(choices)}"
        )
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    return _read("list", name, default)


def env_db(name: str, default: str) -> dict:
    """Parse a database URL (postgres://, sqlite:///…) into a Django DATABASES entry."""
    _unset_if_empty(name)
    try:
        database = _env.dj_db_url(name, default)
    except (EnvError, ValueError, KeyError) as exc:
        raise ImproperlyConfigured(f"Environment variable {name} is invalid: {exc}") from exc
    # sqlite:///var/db.sqlite3 is the project's file, like a relative DATA_DIR: manage.py run
    # from another directory must open the database the server uses, not create a new one.
    path = database.get("NAME") or ""
    in_memory = path in ("", ":memory:") or path.startswith("file:")
    if database.get("ENGINE", "").endswith("sqlite3") and not in_memory:
        database["NAME"] = str(PROJECT_DIR / path)  # an absolute path stays as it is
    return database


def main() -> int:
    """`python -m config.env`: the env file's variables as shell `export` lines, for run.sh."""
    try:
        added = read_env()
    except ImproperlyConfigured as exc:
        print(exc, file=sys.stderr)
        return 1
    for name, value in added.items():
        print(f"export {name}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())


_RATE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def env_rate(name: str) -> tuple[int, int] | None:
    """A rate such as `100/6h` (units s, m, h, d; a bare number is seconds) as (count, seconds);
    None when unset or empty (no limit)."""
    value = env_str(name, "").strip().lower()
    if not value:
        return None
    count, _, window = value.partition("/")
    unit = window[-1:] if window[-1:] in _RATE_UNITS else ""
    amount = window[:-1] if unit else window
    if not (count.isdigit() and amount.isdigit() and int(count) > 0 and int(amount) > 0):
        raise ImproperlyConfigured(
            f"Environment variable {name} is invalid: {value!r} is not like 100/6h"
        )
    return int(count), int(amount) * _RATE_UNITS.get(unit, 1)
