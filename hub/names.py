"""The OCI name grammar, shared by namespaces, repositories, URL converters and forms."""

from __future__ import annotations

import re

from django.core.validators import RegexValidator

PATH_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
REPOSITORY_PATH = rf"{PATH_COMPONENT}(?:/{PATH_COMPONENT})*"
TAG = r"[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}"

# Anchored with \Z, not $: `$` also matches before a trailing newline ("app\n" would pass).
PATH_COMPONENT_RE = re.compile(rf"^{PATH_COMPONENT}\Z")
REPOSITORY_PATH_RE = re.compile(rf"^{REPOSITORY_PATH}\Z")
TAG_RE = re.compile(rf"^{TAG}\Z")

validate_namespace_name = RegexValidator(
    PATH_COMPONENT_RE,
    "Use lowercase letters and digits, separated by '.', '_', '__' or '-'.",
    code="invalid_name",
)
validate_repository_name = RegexValidator(
    REPOSITORY_PATH_RE,
    "Use lowercase path components of letters and digits separated by '.', '_' or '-', "
    "joined by '/'.",
    code="invalid_name",
)

# Docker Hub's official images: a name with one component (`centos`) is `library/centos`.
OFFICIAL_NAMESPACE = "library"


def name_canonical(full_name: str) -> str:
    """`centos` -> `library/centos`; every other name as it is."""
    return full_name if "/" in full_name else f"{OFFICIAL_NAMESPACE}/{full_name}"


def name_display(namespace: str, name: str) -> str:
    """The short name clients and pages show: `library/centos` -> `centos`."""
    if namespace == OFFICIAL_NAMESPACE and "/" not in name:
        return name
    return f"{namespace}/{name}"
