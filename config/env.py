"""Environment parsing for settings: every bad value stops start-up naming its variable."""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured
from environs import Env, EnvError

_env = Env()


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
        return _env.dj_db_url(name, default)
    except (EnvError, ValueError, KeyError) as exc:
        raise ImproperlyConfigured(f"Environment variable {name} is invalid: {exc}") from exc
