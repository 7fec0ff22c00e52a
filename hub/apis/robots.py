"""Robot accounts of an organization (its owners manage them) or of the signed-in user."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from hub.api_permissions import token_allows
from hub.apis.common import BaseApi, PaginatedApi, errors
from hub.apis.organizations import SCOPE_MESSAGE, _manage_check, _organization_namespace_or_404
from hub.credentials import is_robot
from hub.models import Namespace, Robot, RobotPermission
from hub.selectors_robots import robot_get, robot_list
from hub.services.robots import robot_create, robot_delete, robot_rotate, robot_update

ORG = OpenApiParameter("name", str, "path", description="Organization.")
ROBOT = OpenApiParameter("robot", str, "path", description="Robot name (without `<namespace>+`).")


class RobotPermissionSerializer(serializers.Serializer):
    repository = serializers.CharField(
        max_length=255,
        allow_null=True,
        required=False,
        help_text="A repository of the namespace; null or absent: all of its repositories.",
    )
    level = serializers.ChoiceField(
        choices=RobotPermission.Level.choices,
        help_text="push implies pull; delete implies push and pull.",
    )

    class Meta:
        ref_name = "RobotPermission"


class RobotOutputSerializer(serializers.Serializer):
    name = serializers.CharField(
        source="user.username", help_text="`<namespace>+<robot>`: the docker login username."
    )
    robot = serializers.CharField(source="name", help_text="The name within the namespace.")
    namespace = serializers.CharField(source="namespace.name")
    description = serializers.CharField(allow_blank=True)
    disabled = serializers.SerializerMethodField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    last_used_at = serializers.DateTimeField(allow_null=True)
    pull_rate_limit_exempt = serializers.BooleanField(help_text="Set by administrators.")
    permissions = serializers.SerializerMethodField()

    class Meta:
        ref_name = "Robot"

    def get_disabled(self, robot) -> bool:
        return not robot.user.is_active

    @extend_schema_field(RobotPermissionSerializer(many=True))
    def get_permissions(self, robot):
        return [
            {
                "repository": grant.repository.name if grant.repository_id else None,
                "level": grant.level,
            }
            for grant in robot.permissions.all()
        ]


class RobotCreatedSerializer(RobotOutputSerializer):
    secret = serializers.CharField(help_text="The robot's secret; shown only in this answer.")

    class Meta:
        ref_name = "RobotCreated"


class RobotSecretSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="`<namespace>+<robot>`.")
    secret = serializers.CharField(help_text="The new secret; the old one no longer works.")

    class Meta:
        ref_name = "RobotSecret"


class RobotCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=64, help_text="The name within the namespace.")
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)
    permissions = RobotPermissionSerializer(many=True, required=False, max_length=1000)

    class Meta:
        ref_name = "RobotCreate"


class RobotUpdateSerializer(serializers.Serializer):
    """PATCH: missing fields stay as they are; `permissions`, when given, replaces them all."""

    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)
    disabled = serializers.BooleanField(required=False)
    permissions = RobotPermissionSerializer(many=True, required=False, max_length=1000)

    class Meta:
        ref_name = "RobotUpdate"


def _people_only(request) -> None:
    # A robot manages nothing, not even robots of its own namespace.
    if is_robot(request.user):
        raise exceptions.PermissionDenied("Robot accounts cannot manage robot accounts.")


def _managed_namespace(request, org: str | None) -> Namespace:
    """The organization for its owners, or (org None) the signed-in user's own namespace."""
    _people_only(request)
    if org is not None:
        namespace = _organization_namespace_or_404(org)
        _manage_check(request, namespace)
        return namespace
    if not token_allows(request, "admin"):
        raise exceptions.PermissionDenied(SCOPE_MESSAGE)
    namespace = Namespace.objects.filter(user=request.user).first()
    if namespace is None:
        raise exceptions.NotFound("You have no namespace.")
    return namespace


def _robot_or_404(namespace: Namespace, name: str) -> Robot:
    robot = robot_get(namespace=namespace, name=name)
    if robot is None:
        raise exceptions.NotFound("Robot not found.")
    return robot


class _RobotListBase(PaginatedApi):
    permission_classes = [IsAuthenticated]

    def _list(self, request, org):
        return self.paginated(
            robot_list(namespace=_managed_namespace(request, org)), RobotOutputSerializer
        )

    def _create(self, request, org):
        namespace = _managed_namespace(request, org)
        data = RobotCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        robot, secret = robot_create(
            namespace=namespace, created_by=request.user, request=request, **data.validated_data
        )
        robot = robot_get(namespace=namespace, name=robot.name)
        robot.secret = secret
        return Response(RobotCreatedSerializer(robot).data, status=status.HTTP_201_CREATED)


class _RobotDetailBase(BaseApi):
    permission_classes = [IsAuthenticated]

    def _robot(self, request, org, robot) -> Robot:
        return _robot_or_404(_managed_namespace(request, org), robot)

    def _update(self, request, org, robot):
        found = self._robot(request, org, robot)
        data = RobotUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        robot_update(robot=found, actor=request.user, request=request, **data.validated_data)
        return Response(RobotOutputSerializer(_robot_or_404(found.namespace, found.name)).data)

    def _delete(self, request, org, robot):
        robot_delete(robot=self._robot(request, org, robot), actor=request.user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class _RobotRotateBase(BaseApi):
    permission_classes = [IsAuthenticated]

    def _rotate(self, request, org, robot):
        found = _robot_or_404(_managed_namespace(request, org), robot)
        secret = robot_rotate(robot=found, actor=request.user, request=request)
        return Response(RobotSecretSerializer({"name": found.user.username, "secret": secret}).data)


LIST = {200: RobotOutputSerializer(many=True), **errors(401, 403, 404)}
CREATE = {201: RobotCreatedSerializer, **errors(400, 401, 403, 404)}
ONE = {200: RobotOutputSerializer, **errors(401, 403, 404)}
UPDATE = {200: RobotOutputSerializer, **errors(400, 401, 403, 404)}
GONE = {204: None, **errors(401, 403, 404)}
ROTATE = {200: RobotSecretSerializer, **errors(401, 403, 404)}


@extend_schema(parameters=[ORG])
class OrgRobotListApi(_RobotListBase):
    @extend_schema(operation_id="org_robots_list", responses=LIST)
    def get(self, request, name):
        return self._list(request, name)

    @extend_schema(
        operation_id="org_robots_create", request=RobotCreateSerializer, responses=CREATE
    )
    def post(self, request, name):
        return self._create(request, name)


@extend_schema(parameters=[ORG, ROBOT])
class OrgRobotDetailApi(_RobotDetailBase):
    @extend_schema(operation_id="org_robots_retrieve", responses=ONE)
    def get(self, request, name, robot):
        return Response(RobotOutputSerializer(self._robot(request, name, robot)).data)

    @extend_schema(
        operation_id="org_robots_update", request=RobotUpdateSerializer, responses=UPDATE
    )
    def patch(self, request, name, robot):
        return self._update(request, name, robot)

    @extend_schema(operation_id="org_robots_destroy", responses=GONE)
    def delete(self, request, name, robot):
        return self._delete(request, name, robot)


@extend_schema(parameters=[ORG, ROBOT])
class OrgRobotRotateApi(_RobotRotateBase):
    @extend_schema(operation_id="org_robots_rotate", request=None, responses=ROTATE)
    def post(self, request, name, robot):
        return self._rotate(request, name, robot)


class MyRobotListApi(_RobotListBase):
    @extend_schema(operation_id="my_robots_list", responses=LIST)
    def get(self, request):
        return self._list(request, None)

    @extend_schema(operation_id="my_robots_create", request=RobotCreateSerializer, responses=CREATE)
    def post(self, request):
        return self._create(request, None)


@extend_schema(parameters=[ROBOT])
class MyRobotDetailApi(_RobotDetailBase):
    @extend_schema(operation_id="my_robots_retrieve", responses=ONE)
    def get(self, request, robot):
        return Response(RobotOutputSerializer(self._robot(request, None, robot)).data)

    @extend_schema(operation_id="my_robots_update", request=RobotUpdateSerializer, responses=UPDATE)
    def patch(self, request, robot):
        return self._update(request, None, robot)

    @extend_schema(operation_id="my_robots_destroy", responses=GONE)
    def delete(self, request, robot):
        return self._delete(request, None, robot)


@extend_schema(parameters=[ROBOT])
class MyRobotRotateApi(_RobotRotateBase):
    @extend_schema(operation_id="my_robots_rotate", request=None, responses=ROTATE)
    def post(self, request, robot):
        return self._rotate(request, None, robot)
