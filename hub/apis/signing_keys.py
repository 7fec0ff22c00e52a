"""A namespace's signing keys (cosign public keys, Notation certificates): list, add, remove.

Its owners (and superusers) manage them; the list also shows the registry-wide keys that
administrators add in the admin site, which verify every namespace's images.
"""

from __future__ import annotations

from django.db.models import F, Q
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from hub import permissions, selectors
from hub.apis.common import BaseApi, PaginatedApi, deny, errors, id_or_404
from hub.authentication import request_scopes
from hub.models import SigningKey
from hub.names import PATH_COMPONENT_RE
from hub.services.signing_keys import signing_key_add, signing_key_delete

NAMESPACE_PARAMETER = OpenApiParameter("namespace", str, "path")


class SigningKeySerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=SigningKey.Kind.choices)
    scope = serializers.SerializerMethodField(help_text='"namespace" or "registry".')
    fingerprint = serializers.CharField(help_text="sha256 of the public key's DER encoding.")
    pem = serializers.CharField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True)
    created_at = serializers.DateTimeField()

    class Meta:
        ref_name = "SigningKey"

    def get_scope(self, key) -> str:
        return "namespace" if key.namespace_id else "registry"


class SigningKeyInputSerializer(serializers.Serializer):
    name = serializers.RegexField(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\Z", max_length=100)
    kind = serializers.ChoiceField(choices=SigningKey.Kind.choices)
    pem = serializers.CharField(
        max_length=20000,
        help_text="cosign: a PEM public key (ECDSA, RSA ≥ 2048 bits, Ed25519); "
        "notation: a PEM X.509 certificate of the trust store.",
    )

    class Meta:
        ref_name = "SigningKeyCreate"


def _namespace_for_admin(request, name: str):
    """Namespaces are public (their pages are), so a refusal here reveals nothing: 401/403."""
    found = selectors.namespace_get(name=name) if PATH_COMPONENT_RE.match(name) else None
    if found is None:
        raise exceptions.NotFound("Namespace not found.")
    if not permissions.can_admin_namespace(request.user, found, request_scopes(request)):
        deny(request, "Only the namespace's owners may manage its signing keys.")
    return found


@extend_schema(parameters=[NAMESPACE_PARAMETER])
class SigningKeyListApi(PaginatedApi):
    @extend_schema(
        operation_id="signing_keys_list",
        description="The keys verifying the namespace's signatures: its own and registry-wide.",
        responses={200: SigningKeySerializer(many=True), **errors(401, 403, 404)},
    )
    def get(self, request, namespace):
        found = _namespace_for_admin(request, namespace)
        keys = (
            SigningKey.objects.filter(Q(namespace=found) | Q(namespace__isnull=True))
            .select_related("created_by")
            .order_by(F("namespace_id").asc(nulls_last=True), "name")
        )
        return self.paginated(keys, SigningKeySerializer)

    @extend_schema(
        operation_id="signing_keys_create",
        request=SigningKeyInputSerializer,
        responses={201: SigningKeySerializer, **errors(400, 401, 403, 404)},
    )
    def post(self, request, namespace):
        found = _namespace_for_admin(request, namespace)
        data = SigningKeyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key = signing_key_add(
            namespace=found, actor=request.user, request=request, **data.validated_data
        )
        return Response(SigningKeySerializer(key).data, status=status.HTTP_201_CREATED)


@extend_schema(parameters=[NAMESPACE_PARAMETER, OpenApiParameter("key_id", int, "path")])
class SigningKeyDetailApi(BaseApi):
    def _key(self, found, key_id: str) -> SigningKey:
        key = SigningKey.objects.filter(namespace=found, pk=id_or_404(key_id)).first()
        if key is None:
            raise exceptions.NotFound("Signing key not found.")
        return key

    @extend_schema(
        operation_id="signing_keys_retrieve",
        responses={200: SigningKeySerializer, **errors(401, 403, 404)},
    )
    def get(self, request, namespace, key_id):
        found = _namespace_for_admin(request, namespace)
        return Response(SigningKeySerializer(self._key(found, key_id)).data)

    @extend_schema(
        operation_id="signing_keys_destroy",
        description="Remove one of the namespace's keys (registry-wide keys: admin site).",
        responses={204: None, **errors(401, 403, 404)},
    )
    def delete(self, request, namespace, key_id):
        found = _namespace_for_admin(request, namespace)
        signing_key_delete(key=self._key(found, key_id), actor=request.user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)
