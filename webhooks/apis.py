"""REST API for a repository's webhooks: thin views over webhooks.services and selectors.

Only repository admins (hub.permissions.can_admin) manage hooks. A repository the caller may not
view answers 404 exactly like an absent one.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from hub import permissions, selectors
from hub.authentication import request_scopes
from hub.pagination import PageNumberPagination
from webhooks import selectors as webhook_selectors
from webhooks import services
from webhooks.serializers import (
    DeliverySerializer,
    WebhookCreateSerializer,
    WebhookOutputSerializer,
    WebhookUpdateSerializer,
    WebhookWithSecretSerializer,
)

TAGS = ["webhooks"]
PAGINATED_DELIVERIES = inline_serializer(
    name="PaginatedDeliveryList",
    fields={
        "count": serializers.IntegerField(),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": DeliverySerializer(many=True),
    },
)
NOT_FOUND = OpenApiResponse(description="No such repository, webhook or delivery (or not visible).")


def _drf_error(exc: DjangoValidationError) -> exceptions.ValidationError:
    detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
    return exceptions.ValidationError(detail)


class RepositoryWebhookApi(APIView):
    """Base: resolve the repository from the URL and require admin rights on it."""

    def repository(self):
        repository = selectors.repository_get(
            namespace=self.kwargs["namespace"], name=self.kwargs["name"]
        )
        scopes = request_scopes(self.request)
        if repository is None or not permissions.can_view(self.request.user, repository):
            raise exceptions.NotFound("Repository not found.")
        if not permissions.can_admin(self.request.user, repository, scopes):
            if not self.request.user.is_authenticated:
                raise exceptions.NotAuthenticated()
            raise exceptions.PermissionDenied("Only the repository's admins manage its webhooks.")
        return repository

    def webhook(self):
        hook = webhook_selectors.webhook_get(
            repository=self.repository(), webhook_id=self.kwargs["webhook_id"]
        )
        if hook is None:
            raise exceptions.NotFound("Webhook not found.")
        return hook


class WebhookListApi(RepositoryWebhookApi):
    @extend_schema(
        tags=TAGS,
        operation_id="repository_webhooks_list",
        responses={200: WebhookOutputSerializer(many=True), 404: NOT_FOUND},
    )
    def get(self, request, namespace, name):
        hooks = webhook_selectors.webhook_list(repository=self.repository())
        return Response(WebhookOutputSerializer(hooks, many=True).data)

    @extend_schema(
        tags=TAGS,
        operation_id="repository_webhooks_create",
        request=WebhookCreateSerializer,
        responses={201: WebhookWithSecretSerializer, 400: OpenApiResponse(), 404: NOT_FOUND},
    )
    def post(self, request, namespace, name):
        repository = self.repository()
        serializer = WebhookCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            hook = services.webhook_create(
                repository=repository,
                actor=request.user,
                site_url=request.build_absolute_uri("/"),
                **serializer.validated_data,
            )
        except DjangoValidationError as exc:
            raise _drf_error(exc) from exc
        return Response(WebhookWithSecretSerializer(hook).data, status=status.HTTP_201_CREATED)


class WebhookDetailApi(RepositoryWebhookApi):
    @extend_schema(
        tags=TAGS,
        operation_id="repository_webhooks_retrieve",
        responses={200: WebhookOutputSerializer, 404: NOT_FOUND},
    )
    def get(self, request, namespace, name, webhook_id):
        return Response(WebhookOutputSerializer(self.webhook()).data)

    @extend_schema(
        tags=TAGS,
        operation_id="repository_webhooks_partial_update",
        request=WebhookUpdateSerializer,
        responses={
            200: WebhookOutputSerializer,
            400: OpenApiResponse(),
            404: NOT_FOUND,
        },
        description="Change a hook. When `secret` is sent, the response includes the new secret.",
    )
    def patch(self, request, namespace, name, webhook_id):
        hook = self.webhook()
        serializer = WebhookUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            hook = services.webhook_update(webhook=hook, **serializer.validated_data)
        except DjangoValidationError as exc:
            raise _drf_error(exc) from exc
        output = (
            WebhookWithSecretSerializer
            if "secret" in serializer.validated_data
            else WebhookOutputSerializer
        )
        return Response(output(hook).data)

    @extend_schema(
        tags=TAGS,
        operation_id="repository_webhooks_destroy",
        responses={204: None, 404: NOT_FOUND},
    )
    def delete(self, request, namespace, name, webhook_id):
        services.webhook_delete(webhook=self.webhook())
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveryListApi(RepositoryWebhookApi):
    @extend_schema(
        tags=TAGS,
        operation_id="repository_webhooks_deliveries_list",
        responses={200: PAGINATED_DELIVERIES, 404: NOT_FOUND},
    )
    def get(self, request, namespace, name, webhook_id):
        deliveries = webhook_selectors.delivery_list(webhook=self.webhook())
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(deliveries, request, view=self)
        return paginator.get_paginated_response(DeliverySerializer(page, many=True).data)


class WebhookRedeliverApi(RepositoryWebhookApi):
    @extend_schema(
        tags=TAGS,
        operation_id="repository_webhooks_deliveries_redeliver",
        request=None,
        responses={202: DeliverySerializer, 404: NOT_FOUND},
        description="Send a delivery's event again, as a new delivery.",
    )
    def post(self, request, namespace, name, webhook_id, delivery_id):
        delivery = webhook_selectors.delivery_get(webhook=self.webhook(), delivery_id=delivery_id)
        if delivery is None:
            raise exceptions.NotFound("Delivery not found.")
        again = services.delivery_redeliver(delivery=delivery)
        again = webhook_selectors.delivery_get(webhook=again.webhook, delivery_id=again.pk)
        return Response(DeliverySerializer(again).data, status=status.HTTP_202_ACCEPTED)


class WebhookTestApi(RepositoryWebhookApi):
    @extend_schema(
        tags=TAGS,
        operation_id="repository_webhooks_test",
        request=None,
        responses={202: DeliverySerializer, 404: NOT_FOUND},
        description="Queue a test event (shaped like a push of tag `test`) to this hook.",
    )
    def post(self, request, namespace, name, webhook_id):
        hook = self.webhook()
        delivery = services.webhook_test(webhook=hook, actor=request.user)
        delivery = webhook_selectors.delivery_get(webhook=hook, delivery_id=delivery.pk)
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
