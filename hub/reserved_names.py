"""Which names a new user or organization may take: not a reserved one, and not a look-alike.

A namespace names repositories (`<name>/<repository>`) and profile pages, so names that read as
the operator (`admin`, `security`, `library`), as a route of this portal (`api`, `v2`, `settings`)
or as another account with only its separators moved (`ali-ce` for `alice`) invite impersonation.
RESERVED_NAMES in the settings adds to the defaults. Staff may still create any valid name in
the admin site.
"""

from __future__ import annotations

import functools
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import F, Value
from django.db.models.functions import Replace
from django.urls import URLResolver, get_resolver
from django.utils.translation import gettext as _

from hub.models import Namespace
from hub.names import PATH_COMPONENT_RE

DEFAULT_RESERVED_NAMES = frozenset(
    {
        "admin", "administrator", "api", "auth", "dockyard", "docker", "help", "library",
        "mail", "official", "root", "security", "static", "support", "system", "v1", "v2",
        "www",
    }
)  # fmt: skip
SEPARATORS = re.compile(r"[-_.]+")


def name_key(name: str) -> str:
    """What a name looks like without its separators: `a.li_ce`, `ali-ce` and `alice` agree."""
    return SEPARATORS.sub("", name.lower())


def _first_segments(patterns) -> set[str]:
    segments = set()
    for pattern in patterns:
        prefix = str(pattern.pattern).lstrip("^")
        if not prefix and isinstance(pattern, URLResolver):
            segments |= _first_segments(pattern.url_patterns)
            continue
        segment = prefix.split("/", 1)[0]
        if PATH_COMPONENT_RE.match(segment):
            segments.add(segment)
    return segments


@functools.cache
def _route_names() -> frozenset[str]:
    """The first path segments of the portal's routes (`accounts`, `orgs`, `u`, `r`, …)."""
    return frozenset(_first_segments(get_resolver().url_patterns))


def reserved_names() -> frozenset[str]:
    configured = {name.strip().lower() for name in settings.RESERVED_NAMES if name.strip()}
    return DEFAULT_RESERVED_NAMES | _route_names() | configured


def _without_separators(field: str):
    """name_key() in SQL (names are lowercase already, by the grammar)."""
    expression = F(field)
    for separator in "-_.":
        expression = Replace(expression, Value(separator), Value(""))
    return expression


def namespace_name_check(name: str) -> None:
    """Raise ValidationError({"name": …}) unless `name` is free for a new user or organization:
    not taken, not reserved, and not a separator look-alike of a reserved or existing name."""
    key = name_key(name)
    if Namespace.objects.filter(name=name).exists():
        raise ValidationError({"name": _("This name is already taken by a user or organization.")})
    if key in {name_key(reserved) for reserved in reserved_names()}:
        raise ValidationError({"name": _("This name is reserved.")})
    keyed = Namespace.objects.annotate(key=_without_separators("name"))
    similar = keyed.filter(key=key).values_list("name", flat=True).first()
    if similar is not None:
        raise ValidationError(
            {"name": _("This name is too close to the existing name %(name)s.") % {"name": similar}}
        )
