"""Reads of robot accounts; callers check who may manage the namespace."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from hub.models import Namespace, Robot, RobotPermission
from hub.names import PATH_COMPONENT_RE


def robot_list(*, namespace: Namespace) -> QuerySet[Robot]:
    grants = RobotPermission.objects.select_related("repository").order_by("repository__name", "pk")
    return (
        Robot.objects.filter(namespace=namespace)
        .select_related("user", "namespace", "created_by")
        .prefetch_related(Prefetch("permissions", queryset=grants))
        .order_by("name")
    )


def robot_get(*, namespace: Namespace, name: str) -> Robot | None:
    """By its name in the namespace (or its full `<namespace>+<name>`)."""
    prefix = f"{namespace.name}+"
    if name.startswith(prefix):
        name = name[len(prefix) :]
    if len(name) > 64 or not PATH_COMPONENT_RE.fullmatch(name):
        return None
    return robot_list(namespace=namespace).filter(name=name).first()
