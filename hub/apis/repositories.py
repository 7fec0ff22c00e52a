"""Repositories: list (filter, search, order), create, get, patch, delete."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from hub import permissions, selectors
from hub.apis.common import BaseApi, PaginatedApi, deny, errors, repository_for, with_counts
from hub.authentication import request_scopes
from hub.models import Repository
from hub.search import MAX_QUERY_LENGTH, repository_search
from hub.services.repositories import repository_create, repository_delete, repository_update

ORDERINGS = ("stars", "pulls", "updated")


class RepositoryOutputSerializer(serializers.Serializer):
    """What every repository answer holds; `pull_command` names this server's host."""

    namespace = serializers.CharField(source="namespace.name")
    name = serializers.CharField()
    full_name = serializers.CharField()
    display_name = serializers.CharField(
        help_text="The name clients write: `centos` for `library/centos`, else the full name."
    )
    description = serializers.CharField()
    full_description = serializers.CharField()
    is_private = serializers.BooleanField()
    comments_enabled = serializers.BooleanField()
    require_signature = serializers.BooleanField(
        help_text="Pulls of images without a verified signature are refused (DENIED)."
    )
    mirror_of = serializers.CharField()
    source_url = serializers.CharField(help_text="Source code (http/https), or empty.")
    documentation_url = serializers.CharField(help_text="Documentation (http/https), or empty.")
    homepage_url = serializers.CharField(help_text="Home page (http/https), or empty.")
    license = serializers.CharField(help_text="Licence, an SPDX expression as images write it.")
    image_title = serializers.CharField(
        help_text="`org.opencontainers.image.title` of the last image pushed that had one."
    )
    image_version = serializers.CharField(
        help_text="`org.opencontainers.image.version` of the last image pushed that had one."
    )
    metadata_from_image = serializers.ListField(
        child=serializers.CharField(),
        help_text="Fields whose value came from an image's OCI annotations; a later push may "
        "change them. The others were set by the owner and pushes never change them.",
    )
    is_official = serializers.BooleanField(
        read_only=True, help_text="In the `library` namespace: an official image."
    )
    is_verified_publisher = serializers.BooleanField(
        read_only=True, help_text="Owned by an organization administrators verified."
    )
    is_sponsored = serializers.BooleanField(
        read_only=True, help_text="Owned by an organization this hub sponsors."
    )
    star_count = serializers.IntegerField()
    pull_count = serializers.IntegerField()
    comment_count = serializers.IntegerField()
    collaborator_count = serializers.IntegerField()
    date_registered = serializers.DateTimeField(source="created_at")
    last_updated = serializers.DateTimeField(source="updated_at")
    pull_command = serializers.SerializerMethodField()

    class Meta:
        ref_name = "Repository"

    @extend_schema_field(OpenApiTypes.STR)
    def get_pull_command(self, repository) -> str:
        return f"docker pull {self.context['request'].get_host()}/{repository.display_name}"


class RepositoryDetailOutputSerializer(RepositoryOutputSerializer):
    permissions = serializers.ListField(
        child=serializers.ChoiceField(choices=["pull", "push", "delete", "admin"]),
        help_text="What the caller may do (with the request's token scopes).",
    )

    class Meta:
        ref_name = "RepositoryDetail"


def repository_detail_data(request, repository: Repository) -> dict:
    repository.comment_count = repository.comments.count()
    repository.collaborator_count = repository.collaborators.count()
    repository.permissions = sorted(
        permissions.allowed_actions(request.user, repository, request_scopes(request))
    )
    return RepositoryDetailOutputSerializer(repository, context={"request": request}).data


class BadgeFilterSerializer(serializers.Serializer):
    """`?official=true&verified=true&sponsored=true`: keep repositories with every badge asked."""

    official = serializers.BooleanField(
        required=False, default=False, help_text="Only official images (`library`)."
    )
    verified = serializers.BooleanField(
        required=False, default=False, help_text="Only verified publishers' repositories."
    )
    sponsored = serializers.BooleanField(
        required=False, default=False, help_text="Only sponsored organizations' repositories."
    )

    class Meta:
        ref_name = "BadgeFilter"


def badge_filters(validated: dict) -> dict[str, bool]:
    """The badge filters as hub.search.repository_search's keyword arguments."""
    return {name: validated[name] for name in ("official", "verified", "sponsored")}


class OmittableBooleanField(serializers.BooleanField):
    """A boolean that is absent when not sent, in form bodies too (where DRF reads an unsent
    checkbox as False), so the service's default applies."""

    default_empty_html = serializers.empty


class RepositoryListApi(PaginatedApi):
    class FilterSerializer(BadgeFilterSerializer):
        namespace = serializers.CharField(required=False, max_length=64)
        q = serializers.CharField(required=False, allow_blank=True, max_length=MAX_QUERY_LENGTH)
        ordering = serializers.ChoiceField(choices=ORDERINGS, required=False)

        class Meta:
            ref_name = "RepositoryFilter"

    class InputSerializer(serializers.Serializer):
        namespace = serializers.CharField(max_length=64)
        name = serializers.CharField(max_length=255)
        description = serializers.CharField(max_length=100, required=False, allow_blank=True)
        full_description = serializers.CharField(max_length=25000, required=False, allow_blank=True)
        is_private = OmittableBooleanField(
            required=False, help_text="Omitted: the server's DEFAULT_VISIBILITY decides."
        )

        class Meta:
            ref_name = "RepositoryCreate"

    @extend_schema(
        operation_id="repositories_list",
        parameters=[FilterSerializer],
        responses={200: RepositoryOutputSerializer(many=True), **errors(400, 401, 404)},
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        ordering = filters.validated_data.get("ordering", "relevance")
        queryset = repository_search(
            user=request.user,
            query=filters.validated_data.get("q", ""),
            sort=ordering,
            **badge_filters(filters.validated_data),
        )
        if "namespace" in filters.validated_data:
            queryset = queryset.filter(namespace__name=filters.validated_data["namespace"])
        return self.paginated(with_counts(queryset), RepositoryOutputSerializer)

    @extend_schema(
        operation_id="repositories_create",
        request=InputSerializer,
        responses={201: RepositoryDetailOutputSerializer, **errors(400, 401, 403)},
    )
    def post(self, request):
        if not request.user.is_authenticated:
            raise exceptions.NotAuthenticated()
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        namespace = selectors.namespace_get(name=fields.pop("namespace"))
        if namespace is None:
            raise exceptions.ValidationError({"namespace": ["There is no such namespace."]})
        if not permissions.can_create(request.user, namespace, request_scopes(request)):
            deny(request, "You may not create repositories in this namespace.")
        repository = repository_create(namespace=namespace, actor=request.user, **fields)
        return Response(repository_detail_data(request, repository), status=201)


REPOSITORY_PARAMETERS = [
    OpenApiParameter("namespace", str, OpenApiParameter.PATH),
    OpenApiParameter("name", str, OpenApiParameter.PATH, description="May contain slashes."),
]


@extend_schema(parameters=REPOSITORY_PARAMETERS)
class RepositoryDetailApi(BaseApi):
    class InputSerializer(serializers.Serializer):
        description = serializers.CharField(max_length=100, required=False, allow_blank=True)
        full_description = serializers.CharField(max_length=25000, required=False, allow_blank=True)
        is_private = serializers.BooleanField(required=False)
        comments_enabled = serializers.BooleanField(required=False)
        source_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
        documentation_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
        homepage_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
        license = serializers.CharField(max_length=200, required=False, allow_blank=True)
        require_signature = serializers.BooleanField(required=False)

        class Meta:
            ref_name = "RepositoryUpdate"

    @extend_schema(
        operation_id="repositories_retrieve",
        responses={200: RepositoryDetailOutputSerializer, **errors(401, 404)},
    )
    def get(self, request, namespace, name):
        repository = repository_for(request, namespace, name)
        return Response(repository_detail_data(request, repository))

    @extend_schema(
        operation_id="repositories_update",
        request=InputSerializer,
        responses={200: RepositoryDetailOutputSerializer, **errors(400, 401, 403, 404)},
    )
    def patch(self, request, namespace, name):
        repository = repository_for(request, namespace, name, "admin")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        repository_update(repository=repository, actor=request.user, **data.validated_data)
        return Response(repository_detail_data(request, repository))

    @extend_schema(
        operation_id="repositories_destroy",
        responses={204: None, **errors(401, 403, 404)},
    )
    def delete(self, request, namespace, name):
        repository = repository_for(request, namespace, name, "admin")
        repository_delete(repository=repository, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
