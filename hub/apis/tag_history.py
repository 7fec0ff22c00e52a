"""A tag's history and restoring it to an earlier digest (also for a tag that was deleted)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from hub.apis.common import BaseApi, PaginatedApi, errors, repository_for
from hub.apis.repositories import REPOSITORY_PARAMETERS
from hub.apis.tags import TagOutputSerializer
from registry_api.selectors.tag_history import history_rows, tag_current_digest, tag_history
from registry_api.selectors.tags import tag_get
from registry_api.services.restore import tag_restore

TAG_PARAMETERS = [*REPOSITORY_PARAMETERS, OpenApiParameter("tag", str, "path")]


class TagEventSerializer(serializers.Serializer):
    action = serializers.CharField(source="event.action")
    from_digest = serializers.CharField(source="event.from_digest", allow_blank=True)
    to_digest = serializers.CharField(source="event.to_digest", allow_blank=True)
    actor = serializers.CharField(source="event.actor_name", allow_blank=True)
    created_at = serializers.DateTimeField(source="event.created_at")
    digest = serializers.CharField(
        help_text="The digest this movement is about (to_digest, or what a delete removed): "
        "the one POST restore/ takes."
    )
    restorable = serializers.BooleanField(
        help_text="Whether the tag can be restored to `digest` now (its manifest is in the "
        "repository or still in a restorable tombstone, and the tag is not already there)."
    )

    class Meta:
        ref_name = "TagEvent"


class TagRestoreInputSerializer(serializers.Serializer):
    digest = serializers.CharField(max_length=150)

    class Meta:
        ref_name = "TagRestoreInput"


@extend_schema(parameters=TAG_PARAMETERS)
class TagHistoryApi(PaginatedApi):
    @extend_schema(
        operation_id="tags_history",
        responses={200: TagEventSerializer(many=True), **errors(401, 404)},
    )
    def get(self, request, namespace, name, tag):
        """Every movement of the tag, newest first; still readable once the tag is deleted."""
        repository = repository_for(request, namespace, name)
        events = tag_history(repository=repository, tag=tag)
        if not events.exists() and tag_get(repository=repository, name=tag) is None:
            raise exceptions.NotFound("Tag not found.")
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(events, request, view=self)
        rows = history_rows(repository=repository, tag=tag, events=page)
        return paginator.get_paginated_response(TagEventSerializer(rows, many=True).data)


@extend_schema(parameters=TAG_PARAMETERS)
class TagRestoreApi(BaseApi):
    @extend_schema(
        operation_id="tags_restore",
        request=TagRestoreInputSerializer,
        responses={
            201: TagOutputSerializer,
            200: TagOutputSerializer,
            **errors(400, 401, 403, 404),
        },
    )
    def post(self, request, namespace, name, tag):
        """Point the tag back at a digest from its history (201; 200 if it is already there).
        Needs push access; a deleted manifest is re-created while it is restorable."""
        repository = repository_for(request, namespace, name, "push")
        data = TagRestoreInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        digest = data.validated_data["digest"]
        moved = tag_current_digest(repository=repository, tag=tag) != digest
        tag_restore(
            repository=repository, tag=tag, digest=digest, actor=request.user, request=request
        )
        return Response(
            TagOutputSerializer(tag_get(repository=repository, name=tag)).data,
            status=status.HTTP_201_CREATED if moved else status.HTTP_200_OK,
        )
