"""Storage usage of repositories and namespaces, and namespace quotas (definitions:
registry_api.selectors.usage; enforcement: registry_api.services.quotas)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from hub import permissions
from hub.api_permissions import token_allows
from hub.apis.common import BaseApi, deny, errors, repository_for
from hub.apis.organizations import _namespace_or_404
from hub.apis.repositories import REPOSITORY_PARAMETERS
from registry_api.services.quotas import quota_limit, quota_set
from registry_api.services.usage import namespace_usage_read, repository_usage_read


class UsageOutputSerializer(serializers.Serializer):
    logical_bytes = serializers.IntegerField(
        help_text="Sum over the distinct manifests of the blobs each references (shared layers "
        "count once per image)."
    )
    stored_bytes = serializers.IntegerField(help_text="Unique blobs held, each counted once.")
    exclusive_bytes = serializers.IntegerField(
        help_text="Blobs held by nothing else: what deleting it and collecting garbage frees."
    )

    class Meta:
        ref_name = "Usage"


class QuotaOutputSerializer(serializers.Serializer):
    namespace = serializers.CharField()
    limit_bytes = serializers.IntegerField(
        allow_null=True,
        help_text="The limit set by administrators; null: the default applies.",
    )
    effective_limit_bytes = serializers.IntegerField(help_text="The limit in force; 0 unlimited.")
    used_bytes = serializers.IntegerField(
        help_text="What the quota charges: the namespace's stored bytes."
    )

    class Meta:
        ref_name = "Quota"


class QuotaInputSerializer(serializers.Serializer):
    limit_bytes = serializers.IntegerField(
        min_value=0,
        max_value=2**63 - 1,
        allow_null=True,
        help_text="Bytes; 0 unlimited; null returns to DEFAULT_NAMESPACE_QUOTA_BYTES.",
    )

    class Meta:
        ref_name = "QuotaInput"


def _namespace_for_usage(request, name: str):
    namespace = _namespace_or_404(name)
    if not permissions.can_view_usage(request.user, namespace):
        deny(request, "Only the namespace's owners, members and administrators see its usage.")
    return namespace


def _quota_data(namespace) -> dict:
    from hub.models import NamespaceQuota

    row = NamespaceQuota.objects.filter(namespace=namespace).first()
    return {
        "namespace": namespace.name,
        "limit_bytes": row.limit_bytes if row else None,
        "effective_limit_bytes": quota_limit(namespace),
        "used_bytes": namespace_usage_read(namespace).stored_bytes,
    }


@extend_schema(parameters=REPOSITORY_PARAMETERS)
class RepositoryUsageApi(BaseApi):
    @extend_schema(
        operation_id="repositories_usage_retrieve",
        responses={200: UsageOutputSerializer, **errors(401, 404)},
    )
    def get(self, request, namespace, name):
        repository = repository_for(request, namespace, name)
        return Response(UsageOutputSerializer(repository_usage_read(repository).as_dict()).data)


@extend_schema(parameters=[OpenApiParameter("namespace", str, "path")])
class NamespaceUsageApi(BaseApi):
    @extend_schema(
        operation_id="namespaces_usage_retrieve",
        responses={200: UsageOutputSerializer, **errors(401, 403, 404)},
    )
    def get(self, request, namespace):
        found = _namespace_for_usage(request, namespace)
        return Response(UsageOutputSerializer(namespace_usage_read(found).as_dict()).data)


@extend_schema(parameters=[OpenApiParameter("namespace", str, "path")])
class NamespaceQuotaApi(BaseApi):
    @extend_schema(
        operation_id="namespaces_quota_retrieve",
        responses={200: QuotaOutputSerializer, **errors(401, 403, 404)},
    )
    def get(self, request, namespace):
        found = _namespace_for_usage(request, namespace)
        return Response(QuotaOutputSerializer(_quota_data(found)).data)

    @extend_schema(
        operation_id="namespaces_quota_update",
        request=QuotaInputSerializer,
        responses={200: QuotaOutputSerializer, **errors(400, 401, 403, 404)},
    )
    def put(self, request, namespace):
        found = _namespace_or_404(namespace)
        if not permissions.can_set_quota(request.user):
            deny(request, "Only administrators set quotas.")
        if not token_allows(request, "admin"):
            raise exceptions.PermissionDenied("Setting a quota needs a repo:admin token.")
        serializer = QuotaInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        quota_set(
            namespace=found,
            limit_bytes=serializer.validated_data["limit_bytes"],
            actor=request.user,
            request=request,
        )
        return Response(QuotaOutputSerializer(_quota_data(found)).data)
