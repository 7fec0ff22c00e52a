"""A tag's referrers (signatures, SBOMs, attestations) and its signature verdict."""

from __future__ import annotations

from dataclasses import asdict

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from hub.apis.common import BaseApi, PaginatedApi, errors, repository_for
from hub.apis.repositories import REPOSITORY_PARAMETERS
from registry_api.models import SignatureCheck
from registry_api.selectors.referrers import KIND_ORDER, tag_referrers
from registry_api.selectors.signatures import signature_status
from registry_api.selectors.tags import tag_get


class ReferrerSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=KIND_ORDER)
    artifact_type = serializers.CharField(allow_blank=True)
    digest = serializers.CharField()
    media_type = serializers.CharField()
    size = serializers.IntegerField()
    created = serializers.DateTimeField(
        allow_null=True,
        help_text="The `org.opencontainers.image.created` annotation, else the push time.",
    )
    annotations = serializers.DictField(child=serializers.CharField())
    source = serializers.ChoiceField(
        choices=["subject", "tag", "index"],
        help_text="How it refers: OCI `subject`, cosign's tag scheme, or inside the index.",
    )
    refers_to = serializers.CharField(allow_blank=True)
    download_url = serializers.SerializerMethodField(
        help_text="The artifact's first layer, in the portal (same access as pulling)."
    )

    class Meta:
        ref_name = "Referrer"

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_download_url(self, referrer) -> str | None:
        if not referrer.blob_digest:
            return None
        repository = self.context["repository"]
        path = reverse(
            "hub:referrer-blob",
            args=[repository.namespace.name, repository.name, referrer.blob_digest],
        )
        return self.context["request"].build_absolute_uri(path)


def _tag(repository, name: str):
    found = tag_get(repository=repository, name=name)
    if found is None:
        raise exceptions.NotFound("Tag not found.")
    return found


@extend_schema(parameters=[*REPOSITORY_PARAMETERS, OpenApiParameter("tag", str, "path")])
class TagReferrerListApi(PaginatedApi):
    @extend_schema(
        operation_id="tag_referrers_list",
        description="Artifacts referring to the tag's manifest, signatures first.",
        responses={200: ReferrerSerializer(many=True), **errors(401, 404)},
    )
    def get(self, request, namespace, name, tag):
        repository = repository_for(request, namespace, name)
        found = _tag(repository, tag)
        referrers = tag_referrers(manifest=found.manifest)
        return self.paginated(referrers, ReferrerSerializer, repository=repository)


class SignatureStatusSerializer(serializers.Serializer):
    digest = serializers.CharField()
    state = serializers.ChoiceField(choices=SignatureCheck.State.values)
    key_name = serializers.CharField(allow_blank=True, help_text="The key that verified it.")
    reason = serializers.CharField(allow_blank=True, help_text="Why it is not verified.")

    class Meta:
        ref_name = "SignatureStatus"


@extend_schema(parameters=[*REPOSITORY_PARAMETERS, OpenApiParameter("tag", str, "path")])
class TagSignatureApi(BaseApi):
    @extend_schema(
        operation_id="tag_signature_retrieve",
        description="Whether a signing key of the namespace (or a registry-wide one) verifies "
        "a signature of the tag's manifest.",
        responses={200: SignatureStatusSerializer, **errors(401, 404)},
    )
    def get(self, request, namespace, name, tag):
        repository = repository_for(request, namespace, name)
        manifest = _tag(repository, tag).manifest
        status = signature_status(manifest=manifest)
        data = {"digest": manifest.digest, **asdict(status)}
        return Response(SignatureStatusSerializer(data).data)
