"""Robot accounts: created and rotated with a one-time secret (their User password)."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hub.audit import audit_record
from hub.models import Namespace, Repository, Robot, RobotPermission
from hub.names import validate_namespace_name

SECRET_PREFIX = "dyr_"  # noqa: S105 (a prefix, recognisable by secret scanners)


def _secret_new() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _expiry_check(expires_at) -> None:
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": _("The expiry must be in the future.")})


def _permissions_set(*, robot: Robot, permissions: list[dict]) -> None:
    """Replace the robot's grants; each is {"repository": name or None, "level": ...}."""
    rows, seen = [], set()
    for grant in permissions:
        level = grant.get("level")
        if level not in RobotPermission.Level.values:
            raise ValidationError({"permissions": _("Unknown level: %s.") % level})
        name = grant.get("repository") or None
        repository = None
        if name is not None:
            repository = Repository.objects.filter(namespace=robot.namespace, name=name).first()
            if repository is None:
                message = _("No repository %(name)s in %(namespace)s.") % {
                    "name": name,
                    "namespace": robot.namespace.name,
                }
                raise ValidationError({"permissions": message})
        if name in seen:
            raise ValidationError({"permissions": _("One grant per repository.")})
        seen.add(name)
        rows.append(RobotPermission(robot=robot, repository=repository, level=level))
    robot.permissions.all().delete()
    RobotPermission.objects.bulk_create(rows)


def _summary(robot: Robot) -> dict:
    grants = robot.permissions.select_related("repository")
    return {
        "permissions": [
            {"repository": g.repository.name if g.repository_id else None, "level": g.level}
            for g in grants
        ],
        "disabled": not robot.user.is_active,
        "expires_at": robot.expires_at.isoformat() if robot.expires_at else None,
    }


def robot_create(
    *,
    namespace: Namespace,
    name: str,
    created_by,
    description: str = "",
    expires_at=None,
    permissions: list[dict] | None = None,
    request=None,
) -> tuple[Robot, str]:
    """Create a robot; return it and its secret, which is stored only hashed and shown once."""
    name = name or ""
    try:
        validate_namespace_name(name)
    except ValidationError as exc:
        raise ValidationError({"name": exc.messages}) from exc
    if len(name) > 64:
        raise ValidationError({"name": _("At most 64 characters.")})
    _expiry_check(expires_at)
    secret = _secret_new()
    username = f"{namespace.name}+{name}"
    try:
        with transaction.atomic():
            user = get_user_model()(username=username)
            user.set_password(secret)
            user.save()
            robot = Robot.objects.create(
                user=user,
                namespace=namespace,
                name=name,
                description=description,
                created_by=created_by,
                expires_at=expires_at,
            )
            _permissions_set(robot=robot, permissions=permissions or [])
    except IntegrityError as exc:
        raise ValidationError({"name": _("A robot with that name already exists.")}) from exc
    audit_record(
        action="robot.create",
        actor=created_by,
        target=username,
        data=_summary(robot),
        request=request,
    )
    return robot, secret


def robot_update(
    *, robot: Robot, actor, request=None, permissions: list[dict] | None = None, **fields
) -> Robot:
    """Change description, expires_at, disabled and (when given) the grants."""
    with transaction.atomic():
        if "description" in fields:
            robot.description = fields["description"]
        if "expires_at" in fields:
            _expiry_check(fields["expires_at"])
            robot.expires_at = fields["expires_at"]
        robot.save()
        if "disabled" in fields:
            robot.user.is_active = not fields["disabled"]
            robot.user.save(update_fields=["is_active"])
        if permissions is not None:
            _permissions_set(robot=robot, permissions=permissions)
    audit_record(
        action="robot.update",
        actor=actor,
        target=robot.user.username,
        data=_summary(robot),
        request=request,
    )
    return robot


def robot_rotate(*, robot: Robot, actor, request=None) -> str:
    """A new secret; the old one stops working at once (the remembered-password cache is keyed
    by the stored hash, which changes)."""
    secret = _secret_new()
    robot.user.set_password(secret)
    robot.user.save(update_fields=["password"])
    audit_record(action="robot.rotate", actor=actor, target=robot.user.username, request=request)
    return secret


def robot_delete(*, robot: Robot, actor, request=None) -> None:
    username = robot.user.username
    robot.user.delete()  # cascades to the Robot and its grants
    audit_record(action="robot.delete", actor=actor, target=username, request=request)
