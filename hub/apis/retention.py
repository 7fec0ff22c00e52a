"""Retention policies of a repository or a whole namespace: CRUD, and `run/` (a dry run lists
what would be deleted and the bytes freed). Only the repository's admins (the namespace's
owners for namespace policies) manage them; a repository the caller may not see is a 404."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from hub import permissions, selectors
from hub.api_permissions import scope_denied_message, token_allows
from hub.apis.common import BaseApi, deny, errors, id_or_404, repository_for
from hub.apis.repositories import REPOSITORY_PARAMETERS
from hub.names import PATH_COMPONENT_RE
from registry_api.models import RetentionPolicy
from registry_api.services.retention import retention_run
from registry_api.services.retention_policies import (
    retention_policy_create,
    retention_policy_delete,
    retention_policy_update,
)

TAGS = ["retention"]
NAMESPACE_PARAMETERS = [OpenApiParameter("namespace", str, OpenApiParameter.PATH)]
POLICY_PARAMETER = OpenApiParameter("policy_id", int, OpenApiParameter.PATH)


class PolicyInputSerializer(serializers.Serializer):
    """Rules; the model checks ranges, patterns and that at least one rule is set."""

    tag_pattern = serializers.CharField(max_length=128, required=False)
    keep_last = serializers.IntegerField(required=False, allow_null=True)
    keep_pulled_within_days = serializers.IntegerField(required=False, allow_null=True)
    untagged_older_than_days = serializers.IntegerField(required=False, allow_null=True)
    protect_pattern = serializers.CharField(max_length=128, required=False, allow_blank=True)
    evict_not_pulled_days = serializers.IntegerField(
        required=False, allow_null=True, help_text="Proxy-cache repositories and namespaces only."
    )
    enabled = serializers.BooleanField(required=False)
    schedule = serializers.ChoiceField(choices=RetentionPolicy.Schedule.choices, required=False)

    class Meta:
        ref_name = "RetentionPolicyInput"


class PolicyOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    repository = serializers.CharField(source="repository.full_name", allow_null=True, default=None)
    namespace = serializers.CharField(source="namespace.name", allow_null=True, default=None)
    tag_pattern = serializers.CharField()
    keep_last = serializers.IntegerField(allow_null=True)
    keep_pulled_within_days = serializers.IntegerField(allow_null=True)
    untagged_older_than_days = serializers.IntegerField(allow_null=True)
    protect_pattern = serializers.CharField(allow_blank=True)
    evict_not_pulled_days = serializers.IntegerField(allow_null=True)
    enabled = serializers.BooleanField()
    schedule = serializers.ChoiceField(choices=RetentionPolicy.Schedule.choices)
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    created_at = serializers.DateTimeField()
    last_run_at = serializers.DateTimeField(allow_null=True)
    last_result = serializers.JSONField(help_text="Counts of the last real run.")

    class Meta:
        ref_name = "RetentionPolicy"


class RunInputSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField(default=True, help_text="List only (the default).")

    class Meta:
        ref_name = "RetentionRunInput"


class PlannedTagSerializer(serializers.Serializer):
    repository = serializers.CharField()
    name = serializers.CharField()
    digest = serializers.CharField()
    reason = serializers.CharField(help_text="rules, evicted or referrer (its subject goes).")

    class Meta:
        ref_name = "RetentionTag"


class PlannedManifestSerializer(serializers.Serializer):
    repository = serializers.CharField()
    digest = serializers.CharField()
    media_type = serializers.CharField()
    reason = serializers.CharField(help_text="untagged, child, referrer or evicted.")

    class Meta:
        ref_name = "RetentionManifest"


class RunOutputSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    tags = PlannedTagSerializer(many=True)
    manifests = PlannedManifestSerializer(many=True)
    freed_bytes = serializers.IntegerField(
        help_text="Bytes no remaining manifest uses (freed by GC after the restore window)."
    )
    skipped = serializers.ListField(child=serializers.DictField(), help_text="Changed since.")

    class Meta:
        ref_name = "RetentionRun"


class RepositoryScoped:
    def scope(self) -> dict:
        repository = repository_for(
            self.request, self.kwargs["namespace"], self.kwargs["name"], "admin"
        )
        return {"repository": repository}


class NamespaceScoped:
    def scope(self) -> dict:
        name = self.kwargs["namespace"]
        namespace = selectors.namespace_get(name=name) if PATH_COMPONENT_RE.match(name) else None
        if namespace is None:
            raise exceptions.NotFound("Namespace not found.")
        if permissions.namespace_role(self.request.user, namespace) != "admin":
            deny(self.request, "Only the namespace's owners manage its retention policies.")
        if not token_allows(self.request, "admin"):
            deny(self.request, scope_denied_message(self.request, "admin"))
        return {"namespace": namespace}


class PolicyApi(BaseApi):
    def scope(self) -> dict:  # pragma: no cover - provided by RepositoryScoped/NamespaceScoped
        raise NotImplementedError

    def policy(self) -> RetentionPolicy:
        scope = self.scope()
        found = (
            RetentionPolicy.objects.select_related(
                "repository__namespace", "namespace", "created_by"
            )
            .filter(pk=id_or_404(self.kwargs["policy_id"]), **scope)
            .first()
        )
        if found is None:
            raise exceptions.NotFound("Retention policy not found.")
        return found


class PolicyListBase(PolicyApi):
    @extend_schema(
        tags=TAGS, responses={200: PolicyOutputSerializer(many=True), **errors(401, 403, 404)}
    )
    def get(self, request, **kwargs):
        policies = RetentionPolicy.objects.filter(**self.scope()).select_related(
            "repository__namespace", "namespace", "created_by"
        )
        return Response(PolicyOutputSerializer(policies.order_by("pk"), many=True).data)

    @extend_schema(
        tags=TAGS,
        request=PolicyInputSerializer,
        responses={201: PolicyOutputSerializer, **errors(400, 401, 403, 404)},
    )
    def post(self, request, **kwargs):
        scope = self.scope()
        serializer = PolicyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        policy = retention_policy_create(actor=request.user, **scope, **serializer.validated_data)
        return Response(PolicyOutputSerializer(policy).data, status=status.HTTP_201_CREATED)


class PolicyDetailBase(PolicyApi):
    @extend_schema(tags=TAGS, responses={200: PolicyOutputSerializer, **errors(401, 403, 404)})
    def get(self, request, **kwargs):
        return Response(PolicyOutputSerializer(self.policy()).data)

    @extend_schema(
        tags=TAGS,
        request=PolicyInputSerializer,
        responses={200: PolicyOutputSerializer, **errors(400, 401, 403, 404)},
        description="Change some rules; the others stay.",
    )
    def patch(self, request, **kwargs):
        policy = self.policy()
        serializer = PolicyInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        policy = retention_policy_update(
            policy=policy, actor=request.user, **serializer.validated_data
        )
        return Response(PolicyOutputSerializer(policy).data)

    @extend_schema(tags=TAGS, responses={204: None, **errors(401, 403, 404)})
    def delete(self, request, **kwargs):
        retention_policy_delete(policy=self.policy(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PolicyRunBase(PolicyApi):
    @extend_schema(
        tags=TAGS,
        request=RunInputSerializer,
        responses={200: RunOutputSerializer, **errors(400, 401, 403, 404)},
        description="Run the policy now. With `dry_run` (the default) nothing is deleted: the "
        "answer lists exactly what a real run would delete and the bytes it would free.",
    )
    def post(self, request, **kwargs):
        policy = self.policy()
        serializer = RunInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        dry_run = serializer.validated_data["dry_run"]
        result = retention_run(policy, dry_run=dry_run, actor=request.user)
        return Response(RunOutputSerializer(result.as_dict()).data)


@extend_schema(parameters=REPOSITORY_PARAMETERS)
class RepositoryPolicyListApi(RepositoryScoped, PolicyListBase):
    pass


@extend_schema(parameters=[*REPOSITORY_PARAMETERS, POLICY_PARAMETER])
class RepositoryPolicyDetailApi(RepositoryScoped, PolicyDetailBase):
    pass


@extend_schema(parameters=[*REPOSITORY_PARAMETERS, POLICY_PARAMETER])
class RepositoryPolicyRunApi(RepositoryScoped, PolicyRunBase):
    pass


@extend_schema(parameters=NAMESPACE_PARAMETERS)
class NamespacePolicyListApi(NamespaceScoped, PolicyListBase):
    pass


@extend_schema(parameters=[*NAMESPACE_PARAMETERS, POLICY_PARAMETER])
class NamespacePolicyDetailApi(NamespaceScoped, PolicyDetailBase):
    pass


@extend_schema(parameters=[*NAMESPACE_PARAMETERS, POLICY_PARAMETER])
class NamespacePolicyRunApi(NamespaceScoped, PolicyRunBase):
    pass
