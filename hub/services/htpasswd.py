"""Accounts from a registry:2 htpasswd file: every entry becomes an account, or an error.

registry:2 accepts any name before the colon (`Admin.User`, `john@corp`, `First Last`); our
usernames are namespaces, lowercase with `.`, `_` or `-` between letters and digits. A name
outside that grammar is mapped to one inside it and the mapping reported. Nothing is dropped
quietly: two entries that land on one username, or a mapped name that would take over an
existing account or a reserved name, refuse the whole import before anything is written; a name
that cannot be mapped at all (nothing of it is a letter or digit) is an error listed at the end.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from hub.hashers import HtpasswdBCryptHasher
from hub.models import Namespace
from hub.names import PATH_COMPONENT_RE
from hub.reserved_names import namespace_name_check

BCRYPT_PREFIXES = ("$2y$", "$2b$", "$2a$")
USERNAME_MAX = 64
_OUTSIDE_GRAMMAR = re.compile(r"[^a-z0-9._-]")
_SEPARATOR_RUN = re.compile(r"[._-]{2,}")


class HtpasswdRefused(Exception):
    """The file cannot be imported as it is; nothing was written. `problems` lists why."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class Entry:
    line: int
    name: str  # as written in the file
    hashed: str
    username: str  # the account it becomes

    @property
    def mapped(self) -> bool:
        return self.name != self.username

    @property
    def encoded(self) -> str:
        return f"{HtpasswdBCryptHasher.algorithm}${self.hashed}"


@dataclass
class HtpasswdPlan:
    entries: list[Entry] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # entries that become no account


def username_valid(name: str) -> bool:
    return len(name) <= USERNAME_MAX and bool(PATH_COMPONENT_RE.fullmatch(name))


def username_map(name: str) -> str:
    """The username an htpasswd name becomes ("" when none): `Admin.User` -> `admin.user`,
    `john@corp` -> `john-corp`, `First  Last` -> `first-last`, `Jürgen` -> `jurgen`."""
    if username_valid(name):
        return name
    decomposed = unicodedata.normalize("NFKD", name)
    letters = "".join(char for char in decomposed if not unicodedata.combining(char)).lower()
    dashed = _OUTSIDE_GRAMMAR.sub("-", letters)
    collapsed = _SEPARATOR_RUN.sub(lambda run: run.group()[0], dashed).strip("._-")
    return collapsed if username_valid(collapsed) else ""


def htpasswd_plan(text: str) -> HtpasswdPlan:
    """Read the file's entries and map their names; raise HtpasswdRefused on a collision."""
    plan = HtpasswdPlan()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, hashed = line.partition(":")
        if not sep or not hashed.startswith(BCRYPT_PREFIXES):
            plan.errors.append(f"line {number}: {name!r} is not a bcrypt entry (use htpasswd -B)")
            continue
        username = username_map(name)
        if not username:
            plan.errors.append(f"line {number}: {name!r} cannot be made a valid username")
            continue
        plan.entries.append(Entry(line=number, name=name, hashed=hashed, username=username))
    collisions = _collisions(plan.entries)
    if collisions:
        raise HtpasswdRefused(collisions)
    return plan


def _collisions(entries: list[Entry]) -> list[str]:
    problems = []
    by_username: dict[str, list[Entry]] = {}
    for entry in entries:
        by_username.setdefault(entry.username, []).append(entry)
    for username, group in by_username.items():
        if len(group) > 1:
            names = ", ".join(f"{entry.name!r} (line {entry.line})" for entry in group)
            problems.append(f"{names} would all become {username}")
    for entry in entries:
        problem = _existing_conflict(entry)
        if problem:
            problems.append(f"line {entry.line}: {problem}")
    return problems


def _existing_conflict(entry: Entry) -> str:
    """Why this entry may not become (or update) its account; "" when it may."""
    shown = f"{entry.name!r} -> {entry.username}" if entry.mapped else repr(entry.name)
    user = get_user_model().objects.filter(username=entry.username).first()
    if user is not None:
        # A valid name is the account of that name (registry:2 and we agree on it). A mapped
        # name is only recognised as the account an earlier import of this entry created.
        if entry.mapped and user.password != entry.encoded:
            return f"{shown}: the account {entry.username} already exists and is someone else's"
        return ""
    if Namespace.objects.filter(name=entry.username).exists():
        return f"{shown}: {entry.username} is an organization"
    if entry.mapped:
        try:
            namespace_name_check(entry.username)
        except ValidationError as exc:
            return f"{shown}: {' '.join(exc.messages)}"
    return ""


@transaction.atomic
def htpasswd_apply(plan: HtpasswdPlan, *, update: bool, dry_run: bool) -> list[tuple[str, Entry]]:
    """Create or update the accounts; (outcome, entry) for each, outcome one of created,
    updated, unchanged, kept (an existing account left alone because update is False)."""
    User = get_user_model()
    outcomes = []
    for entry in plan.entries:
        user = User.objects.filter(username=entry.username).first()
        if user is None:
            outcome = "created"
            if not dry_run:
                user = User(username=entry.username)
                user.password = entry.encoded
                user.save()
        elif user.password == entry.encoded:
            outcome = "unchanged"
        elif not update:
            outcome = "kept"
        else:
            outcome = "updated"
            if not dry_run:
                user.password = entry.encoded
                user.save(update_fields=["password"])
        outcomes.append((outcome, entry))
    return outcomes
