"""Tags of a repository: list, get, delete."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from hub.apis.common import BaseApi, PaginatedApi, errors, repository_for
from hub.apis.repositories import REPOSITORY_PARAMETERS
from registry_api.selectors.manifests import manifest_images, manifest_size
from registry_api.selectors.tag_ordering import DEFAULT_TAG_ORDERING, TAG_ORDERINGS, tags_ordered
from registry_api.selectors.tags import tag_get, tag_list
from registry_api.services.tags import tag_delete


class ImageSerializer(serializers.Serializer):
    digest = serializers.CharField()
    size = serializers.IntegerField()
    os = serializers.CharField(allow_blank=True)
    architecture = serializers.CharField(allow_blank=True)
    variant = serializers.CharField(allow_blank=True)

    class Meta:
        ref_name = "TagImage"


class TagOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    repository = serializers.CharField(source="repository.full_name")
    digest = serializers.CharField(source="manifest.digest")
    media_type = serializers.CharField(source="manifest.media_type")
    full_size = serializers.SerializerMethodField()
    images = serializers.SerializerMethodField()
    last_pushed = serializers.DateTimeField(source="pushed_at")
    last_pusher = serializers.CharField(source="pushed_by.username", allow_null=True)
    last_pulled = serializers.DateTimeField(source="last_pulled_at", allow_null=True)
    pull_count = serializers.IntegerField(help_text="Pulls by this tag's name.")

    class Meta:
        ref_name = "Tag"

    def _images(self, tag) -> list:
        if not hasattr(tag, "_api_images"):
            tag._api_images = manifest_images(tag.manifest)
        return tag._api_images

    @extend_schema_field(ImageSerializer(many=True))
    def get_images(self, tag) -> list:
        return ImageSerializer(self._images(tag), many=True).data

    def get_full_size(self, tag) -> int:
        return manifest_size(tag.manifest, self._images(tag))


@extend_schema(parameters=REPOSITORY_PARAMETERS)
class TagListApi(PaginatedApi):
    @extend_schema(
        operation_id="tags_list",
        parameters=[
            OpenApiParameter(
                "ordering",
                str,
                enum=TAG_ORDERINGS,
                description="last_pushed (default -last_pushed), name (natural: v9 < v10), size;"
                " a leading - reverses.",
            ),
            OpenApiParameter("name", str, description="Only tags whose name contains this."),
        ],
        responses={200: TagOutputSerializer(many=True), **errors(400, 401, 404)},
    )
    def get(self, request, namespace, name):
        repository = repository_for(request, namespace, name)
        ordering = request.query_params.get("ordering", DEFAULT_TAG_ORDERING)
        if ordering not in TAG_ORDERINGS:
            raise exceptions.ValidationError(
                {"ordering": [f"Use one of: {', '.join(TAG_ORDERINGS)}."]}
            )
        tags = tag_list(repository=repository)
        contains = request.query_params.get("name", "").replace("\x00", "")[:128]
        if contains:
            tags = tags.filter(name__icontains=contains)
        return self.paginated(tags_ordered(tags, ordering), TagOutputSerializer)


@extend_schema(parameters=[*REPOSITORY_PARAMETERS, OpenApiParameter("tag", str, "path")])
class TagDetailApi(BaseApi):
    def _tag(self, repository, name):
        tag = tag_get(repository=repository, name=name)
        if tag is None:
            raise exceptions.NotFound("Tag not found.")
        return tag

    @extend_schema(
        operation_id="tags_retrieve",
        responses={200: TagOutputSerializer, **errors(401, 404)},
    )
    def get(self, request, namespace, name, tag):
        repository = repository_for(request, namespace, name)
        return Response(TagOutputSerializer(self._tag(repository, tag)).data)

    @extend_schema(
        operation_id="tags_destroy",
        responses={204: None, **errors(401, 403, 404)},
    )
    def delete(self, request, namespace, name, tag):
        repository = repository_for(request, namespace, name, "delete")
        tag_delete(tag=self._tag(repository, tag), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
