"""Search: the UI's ranking and visibility (hub.search), as a paginated list."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from hub.apis.common import PaginatedApi, errors, with_counts
from hub.apis.repositories import BadgeFilterSerializer, RepositoryOutputSerializer, badge_filters
from hub.search import MAX_QUERY_LENGTH, SORTS, repository_search
from registry_api.selectors.signatures import repositories_signed


class SearchApi(PaginatedApi):
    class FilterSerializer(BadgeFilterSerializer):
        q = serializers.CharField(required=False, allow_blank=True, max_length=MAX_QUERY_LENGTH)
        sort = serializers.ChoiceField(choices=SORTS, required=False, default="relevance")
        org_only = serializers.BooleanField(required=False, default=False)
        signed = serializers.BooleanField(
            required=False,
            default=False,
            help_text="Only repositories with a tag whose signature a signing key verifies.",
        )

        class Meta:
            ref_name = "SearchFilter"

    @extend_schema(
        operation_id="search",
        parameters=[FilterSerializer],
        responses={200: RepositoryOutputSerializer(many=True), **errors(400, 401, 404)},
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        results = repository_search(
            user=request.user,
            query=filters.validated_data.get("q", ""),
            sort=filters.validated_data["sort"],
            org_only=filters.validated_data["org_only"],
            **badge_filters(filters.validated_data),
        )
        if filters.validated_data["signed"]:
            results = repositories_signed(results)
        return self.paginated(with_counts(results), RepositoryOutputSerializer)
