"""Compare two tags or digests of a repository: layers, config and packages."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from hub.apis.common import BaseApi, errors, repository_for
from hub.apis.repositories import REPOSITORY_PARAMETERS
from registry_api.selectors.compare import MAX_REFERENCE_LENGTH, ComparisonInvalid, image_compare
from scanning.selectors import manifest_packages


class SideSerializer(serializers.Serializer):
    reference = serializers.CharField()
    digest = serializers.CharField(help_text="What the reference names (an image or an index).")
    media_type = serializers.CharField()
    image_digest = serializers.CharField(
        help_text="The image compared (a platform's, for an index)."
    )
    platform = serializers.CharField(allow_blank=True)
    size = serializers.IntegerField()
    config_available = serializers.BooleanField(
        help_text="False when the config blob is unreadable."
    )

    class Meta:
        ref_name = "ComparisonSide"


class LayerSerializer(serializers.Serializer):
    digest = serializers.CharField()
    size = serializers.IntegerField()
    media_type = serializers.CharField()

    class Meta:
        ref_name = "ComparisonLayer"


class LayerDiffSerializer(serializers.Serializer):
    shared = LayerSerializer(many=True)
    added = LayerSerializer(many=True, help_text="In `to`, not in `from`.")
    removed = LayerSerializer(many=True, help_text="In `from`, not in `to`.")
    shared_size = serializers.IntegerField()
    added_size = serializers.IntegerField()
    removed_size = serializers.IntegerField()
    size_delta = serializers.IntegerField(help_text="`to`'s image size minus `from`'s.")

    class Meta:
        ref_name = "ComparisonLayers"


class ChangeSerializer(serializers.Serializer):
    to = serializers.CharField()

    class Meta:
        ref_name = "ComparisonChange"

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.CharField()  # a Python keyword: added by name
        return fields


class MappingDiffSerializer(serializers.Serializer):
    added = serializers.DictField(child=serializers.CharField())
    removed = serializers.DictField(child=serializers.CharField())
    changed = serializers.DictField(child=ChangeSerializer())

    class Meta:
        ref_name = "ComparisonMappingDiff"


class SetDiffSerializer(serializers.Serializer):
    added = serializers.ListField(child=serializers.CharField())
    removed = serializers.ListField(child=serializers.CharField())

    class Meta:
        ref_name = "ComparisonSetDiff"


class ListValueDiffSerializer(serializers.Serializer):
    to = serializers.ListField(child=serializers.CharField(), allow_null=True)
    changed = serializers.BooleanField()

    class Meta:
        ref_name = "ComparisonListValue"

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.ListField(child=serializers.CharField(), allow_null=True)
        return fields


class TextValueDiffSerializer(serializers.Serializer):
    to = serializers.CharField(allow_blank=True)
    changed = serializers.BooleanField()

    class Meta:
        ref_name = "ComparisonTextValue"

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.CharField(allow_blank=True)
        return fields


class ConfigDiffSerializer(serializers.Serializer):
    env = MappingDiffSerializer()
    labels = MappingDiffSerializer()
    exposed_ports = SetDiffSerializer()
    volumes = SetDiffSerializer()
    cmd = ListValueDiffSerializer()
    entrypoint = ListValueDiffSerializer()
    workdir = TextValueDiffSerializer()
    user = TextValueDiffSerializer()

    class Meta:
        ref_name = "ComparisonConfig"


class PlatformSummarySerializer(serializers.Serializer):
    platform = serializers.CharField()
    from_image_digest = serializers.CharField()
    to_image_digest = serializers.CharField()
    shared = serializers.IntegerField(help_text="Number of shared layers.")
    added = serializers.IntegerField(help_text="Number of layers added.")
    removed = serializers.IntegerField(help_text="Number of layers removed.")
    size_delta = serializers.IntegerField()

    class Meta:
        ref_name = "ComparisonPlatformSummary"


class ComparisonSerializer(serializers.Serializer):
    platform = serializers.CharField(
        allow_blank=True, help_text="The platform compared; empty when neither side is an index."
    )
    platforms = serializers.ListField(
        child=serializers.CharField(), help_text="The platforms either side offers."
    )
    layers = LayerDiffSerializer()
    by_platform = PlatformSummarySerializer(
        many=True, help_text="Two indexes: a layer summary of each platform both have."
    )
    config = ConfigDiffSerializer()
    packages = MappingDiffSerializer(
        allow_null=True, help_text="Null unless package data (an SBOM) is known for both images."
    )

    class Meta:
        ref_name = "Comparison"

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = SideSerializer()
        fields["to"] = SideSerializer()
        return fields


class CompareApi(BaseApi):
    class FilterSerializer(serializers.Serializer):
        to = serializers.CharField(max_length=MAX_REFERENCE_LENGTH, help_text="A tag or digest.")
        platform = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=130,
            help_text="os/architecture[/variant] of an index; default linux/amd64, else the "
            "first shared.",
        )

        class Meta:
            ref_name = "ComparisonQuery"

        def get_fields(self):
            fields = super().get_fields()
            fields["from"] = serializers.CharField(
                max_length=MAX_REFERENCE_LENGTH, help_text="A tag or digest."
            )
            return fields

    @extend_schema(
        operation_id="repositories_compare",
        parameters=[*REPOSITORY_PARAMETERS, FilterSerializer],
        responses={200: ComparisonSerializer, **errors(400, 401, 404)},
    )
    def get(self, request, namespace, name):
        repository = repository_for(request, namespace, name)
        query = self.FilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            comparison = image_compare(
                repository=repository,
                packages=manifest_packages,
                from_ref=query.validated_data["from"],
                to_ref=query.validated_data["to"],
                platform=query.validated_data.get("platform", ""),
            )
        except ComparisonInvalid as exc:
            raise exceptions.ValidationError(
                {field: [message] for field, message in exc.errors.items()}
            ) from None
        return Response(ComparisonSerializer(comparison).data)
