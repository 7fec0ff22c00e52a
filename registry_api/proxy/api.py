"""REST API for per-namespace proxy caches, for administrators (superusers):
`/api/v1/proxy-caches/` (list, create) and `/api/v1/proxy-caches/<namespace>/` (read, change,
delete). The upstream password is write-only."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from hub.api_permissions import token_allows
from hub.apis.common import BaseApi, errors
from registry_api.models import ProxyCache
from registry_api.proxy.services import proxy_cache_save, proxy_cache_validate


class IsSuperuser(BasePermission):
    message = "Only administrators manage proxy caches (with a repo:admin token or a password)."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_superuser) and token_allows(
            request, "admin"
        )


class ProxyCacheSerializer(serializers.ModelSerializer):
    password = serializers.CharField(
        write_only=True, required=False, allow_blank=True, help_text="Write-only."
    )
    has_password = serializers.SerializerMethodField()

    class Meta:
        model = ProxyCache
        ref_name = "ProxyCache"
        fields = [
            "namespace",
            "upstream_url",
            "username",
            "password",
            "has_password",
            "cache_ttl_seconds",
            "require_sign_in",
            "created_at",
        ]
        read_only_fields = ["created_at"]
        extra_kwargs = {"namespace": {"validators": []}}

    def get_has_password(self, obj) -> bool:
        return bool(obj.password)

    def validate(self, attrs):
        namespace = attrs.get("namespace", getattr(self.instance, "namespace", ""))
        upstream_url = attrs.get("upstream_url", getattr(self.instance, "upstream_url", ""))
        try:
            proxy_cache_validate(
                namespace=namespace, upstream_url=upstream_url, instance=self.instance
            )
        except ValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return attrs

    def save_to(self, proxy_cache: ProxyCache) -> ProxyCache:
        for field, value in self.validated_data.items():
            setattr(proxy_cache, field, value)
        return proxy_cache_save(proxy_cache=proxy_cache)


def _get_or_404(namespace: str) -> ProxyCache:
    found = ProxyCache.objects.filter(namespace=namespace).first()
    if found is None:
        raise exceptions.NotFound("Proxy cache not found.")
    return found


class ProxyCacheListApi(BaseApi):
    permission_classes = [IsSuperuser]

    @extend_schema(
        operation_id="proxy_caches_list",
        responses={200: ProxyCacheSerializer(many=True), **errors(401, 403)},
    )
    def get(self, request):
        caches = ProxyCache.objects.order_by("namespace")
        return Response(ProxyCacheSerializer(caches, many=True).data)

    @extend_schema(
        operation_id="proxy_caches_create",
        request=ProxyCacheSerializer,
        responses={201: ProxyCacheSerializer, **errors(400, 401, 403)},
    )
    def post(self, request):
        serializer = ProxyCacheSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        created = serializer.save_to(ProxyCache())
        return Response(ProxyCacheSerializer(created).data, status=status.HTTP_201_CREATED)


class ProxyCacheDetailApi(BaseApi):
    permission_classes = [IsSuperuser]

    @extend_schema(
        operation_id="proxy_caches_retrieve",
        responses={200: ProxyCacheSerializer, **errors(401, 403, 404)},
    )
    def get(self, request, namespace):
        return Response(ProxyCacheSerializer(_get_or_404(namespace)).data)

    @extend_schema(
        operation_id="proxy_caches_partial_update",
        request=ProxyCacheSerializer,
        responses={200: ProxyCacheSerializer, **errors(400, 401, 403, 404)},
    )
    def patch(self, request, namespace):
        proxy_cache = _get_or_404(namespace)
        serializer = ProxyCacheSerializer(proxy_cache, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        if "password" in serializer.validated_data and not serializer.validated_data["password"]:
            del serializer.validated_data["password"]  # blank keeps the stored password
        return Response(ProxyCacheSerializer(serializer.save_to(proxy_cache)).data)

    @extend_schema(
        operation_id="proxy_caches_destroy", responses={204: None, **errors(401, 403, 404)}
    )
    def delete(self, request, namespace):
        """Stop proxying the namespace; what is cached stays, served from the cache only."""
        _get_or_404(namespace).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
