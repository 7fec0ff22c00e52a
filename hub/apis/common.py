"""Shared pieces of the REST API: base view, lookups that hide private repositories, errors."""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from hub import permissions, selectors
from hub.api_permissions import scope_denied_message
from hub.authentication import request_scopes
from hub.models import Collaborator, Comment, Repository
from hub.names import PATH_COMPONENT_RE, REPOSITORY_PATH_RE
from hub.pagination import PageNumberPagination
from registry_api import service_errors

# Same body for "absent" and "private and not yours": the API must not reveal which.
REPOSITORY_NOT_FOUND = "Repository not found."
MAX_ID = 2**63 - 1


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()

    class Meta:
        ref_name = "Error"


_ERRORS = {
    400: OpenApiResponse(OpenApiTypes.OBJECT, description="Field errors: field → messages."),
    401: OpenApiResponse(ErrorSerializer, description="Not signed in or bad credentials."),
    403: OpenApiResponse(ErrorSerializer, description="Signed in but not allowed."),
    404: OpenApiResponse(ErrorSerializer, description="Not found (or not visible to you)."),
    429: OpenApiResponse(ErrorSerializer, description="Throttled."),
}


def errors(*codes: int) -> dict:
    """OpenAPI responses for DRF's error bodies; every operation may be throttled (429)."""
    return {code: _ERRORS[code] for code in (*codes, 429)}


class Conflict(exceptions.APIException):
    status_code = 409
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "The request body is too large."
    default_code = "too_large"


# Registry service refusals as DRF errors; any other refusal is a 400 with its message.
SERVICE_ERRORS: dict[type[service_errors.ServiceError], type[exceptions.APIException]] = {
    service_errors.ManifestTooLarge: PayloadTooLarge,
    service_errors.TagImmutable: exceptions.PermissionDenied,
    service_errors.ManifestInUse: Conflict,
    service_errors.QuotaExceeded: exceptions.PermissionDenied,
}


def api_error(error: service_errors.ServiceError) -> exceptions.APIException:
    for kind in type(error).__mro__:
        if kind in SERVICE_ERRORS:
            return SERVICE_ERRORS[kind](detail=error.message)
    return exceptions.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [error.message]})


class BaseApi(APIView):
    """Services raise Django's ValidationError or a registry service refusal; answer them as
    DRF errors (field errors for the former)."""

    def handle_exception(self, exc):
        if isinstance(exc, service_errors.ServiceError):
            exc = api_error(exc)
        elif isinstance(exc, DjangoValidationError):
            if hasattr(exc, "error_dict"):
                detail = {
                    (api_settings.NON_FIELD_ERRORS_KEY if key == NON_FIELD_ERRORS else key): value
                    for key, value in exc.message_dict.items()
                }
            else:
                detail = {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}
            exc = exceptions.ValidationError(detail=detail)
        return super().handle_exception(exc)


class PaginatedApi(BaseApi):
    pagination_class = PageNumberPagination

    def paginated(self, queryset, serializer_class, **context):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        context = {"request": self.request, **context}
        data = serializer_class(page, many=True, context=context).data
        return paginator.get_paginated_response(data)


def deny(request, message: str | None = None):
    """401 for anonymous callers (so clients know to authenticate), else 403."""
    if not request.user.is_authenticated:
        raise exceptions.NotAuthenticated()
    raise exceptions.PermissionDenied(message)


def repository_for(request, namespace: str, name: str, action: str = "pull") -> Repository:
    """The repository if the caller may do `action`; 404 when they may not even see it."""
    repository = None
    if len(name) < 256 and PATH_COMPONENT_RE.match(namespace) and REPOSITORY_PATH_RE.match(name):
        repository = selectors.repository_get(namespace=namespace, name=name)
    scopes = request_scopes(request)
    if repository is None or not permissions.can_view(request.user, repository, scopes):
        raise exceptions.NotFound(REPOSITORY_NOT_FOUND)
    if action not in permissions.allowed_actions(request.user, repository, scopes):
        if scopes is not None and action in permissions.allowed_actions(request.user, repository):
            deny(request, scope_denied_message(request, action))
        deny(request)
    return repository


def id_or_404(value: str) -> int:
    """Parse a numeric id from the URL; anything else (or too big for the database) is a 404."""
    if not value.isascii() or not value.isdigit() or not 0 < int(value) <= MAX_ID:
        raise exceptions.NotFound()
    return int(value)


def _count(model) -> Coalesce:
    counted = (
        model.objects.filter(repository=OuterRef("pk"))
        .order_by()
        .values("repository")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def with_counts(queryset: QuerySet[Repository]) -> QuerySet[Repository]:
    """Annotate comment and collaborator counts as subqueries (visibility querysets are
    DISTINCT over joins, so a JOIN + COUNT would multiply)."""
    return queryset.annotate(comment_count=_count(Comment), collaborator_count=_count(Collaborator))
