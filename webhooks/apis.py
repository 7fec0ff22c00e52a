"""REST API for webhooks: a repository's hooks and an organization's (fired for all its repos).

Thin views over webhooks.services.hooks and selectors. Only a repository's admins
(hub.permissions.can_admin) manage its hooks, only an organization's owners manage the
organization's. A repository the caller may not view answers 404 exactly like an absent one.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from hub import permissions, selectors
from hub.apis.common import deny
from hub.authentication import request_scopes
from hub.pagination import PageNumberPagination
from webhooks import selectors as webhook_selectors
from webhooks.serializers import (
    DeliverySerializer,
    WebhookCreateSerializer,
    WebhookOutputSerializer,
    WebhookUpdatedSerializer,
    WebhookUpdateSerializer,
    WebhookWithSecretSerializer,
)
from webhooks.services import hooks as hook_services
from webhooks.services import sweep

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


class RepositoryOwned:
    """Hooks of the repository named by `namespace` and `name` in the URL."""

    def owner(self) -> dict:
        repository = selectors.repository_get(
            namespace=self.kwargs["namespace"], name=self.kwargs["name"]
        )
        if repository is None or not permissions.can_view(self.request.user, repository):
            raise exceptions.NotFound("Repository not found.")
        if not permissions.can_admin(self.request.user, repository, request_scopes(self.request)):
            deny(self.request, "Only the repository's admins manage its webhooks.")
        return {"repository": repository}


class OrganizationOwned:
    """Hooks of the organization named by `name` in the URL (like orgs/<name>/members/)."""

    def owner(self) -> dict:
        namespace = selectors.namespace_get(name=self.kwargs["name"])
        if namespace is None or not namespace.is_organization:
            raise exceptions.NotFound("Organization not found.")
        scopes = request_scopes(self.request)
        if not permissions.can_manage_organization(self.request.user, namespace) or (
            scopes is not None and "repo:admin" not in scopes
        ):
            deny(self.request, "Only the organization's owners manage its webhooks.")
        return {"organization": namespace.organization}


class WebhookApi(APIView):
    def handle_exception(self, exc):
        # Services raise Django's ValidationError: answer it as a 400 with the messages.
        if isinstance(exc, DjangoValidationError):
            exc = _drf_error(exc)
        return super().handle_exception(exc)

    def owner(self) -> dict:  # pragma: no cover - provided by RepositoryOwned/OrganizationOwned
        raise NotImplementedError

    def webhook(self):
        hook = webhook_selectors.webhook_get(webhook_id=self.kwargs["webhook_id"], **self.owner())
        if hook is None:
            raise exceptions.NotFound("Webhook not found.")
        return hook


class WebhookListBase(WebhookApi):
    @extend_schema(tags=TAGS, responses={200: WebhookOutputSerializer(many=True), 404: NOT_FOUND})
    def get(self, request, **kwargs):
        hooks = webhook_selectors.webhook_list(**self.owner())
        return Response(WebhookOutputSerializer(hooks, many=True).data)

    @extend_schema(
        tags=TAGS,
        request=WebhookCreateSerializer,
        responses={201: WebhookWithSecretSerializer, 400: OpenApiResponse(), 404: NOT_FOUND},
        description="Create a hook. The response shows its signing secret, once.",
    )
    def post(self, request, **kwargs):
        owner = self.owner()
        serializer = WebhookCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        hook = hook_services.webhook_create(
            actor=request.user,
            site_url=request.build_absolute_uri("/"),
            **owner,
            **serializer.validated_data,
        )
        return Response(WebhookWithSecretSerializer(hook).data, status=status.HTTP_201_CREATED)


class WebhookDetailBase(WebhookApi):
    @extend_schema(tags=TAGS, responses={200: WebhookOutputSerializer, 404: NOT_FOUND})
    def get(self, request, **kwargs):
        return Response(WebhookOutputSerializer(self.webhook()).data)

    @extend_schema(
        tags=TAGS,
        request=WebhookUpdateSerializer,
        responses={200: WebhookUpdatedSerializer, 400: OpenApiResponse(), 404: NOT_FOUND},
        description="Change a hook. `secret` appears in the response only when it was changed.",
    )
    def patch(self, request, **kwargs):
        hook = self.webhook()
        serializer = WebhookUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        hook = hook_services.webhook_update(webhook=hook, **serializer.validated_data)
        output = (
            WebhookWithSecretSerializer
            if "secret" in serializer.validated_data
            else WebhookOutputSerializer
        )
        return Response(output(hook).data)

    @extend_schema(tags=TAGS, responses={204: None, 404: NOT_FOUND})
    def delete(self, request, **kwargs):
        hook_services.webhook_delete(webhook=self.webhook())
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveryListBase(WebhookApi):
    @extend_schema(tags=TAGS, responses={200: PAGINATED_DELIVERIES, 404: NOT_FOUND})
    def get(self, request, **kwargs):
        deliveries = webhook_selectors.delivery_list(webhook=self.webhook())
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(deliveries, request, view=self)
        return paginator.get_paginated_response(DeliverySerializer(page, many=True).data)


class WebhookRedeliverBase(WebhookApi):
    @extend_schema(
        tags=TAGS,
        request=None,
        responses={202: DeliverySerializer, 404: NOT_FOUND},
        description="Send a delivery's event again, as a new delivery.",
    )
    def post(self, request, **kwargs):
        delivery = webhook_selectors.delivery_get(
            webhook=self.webhook(), delivery_id=self.kwargs["delivery_id"]
        )
        if delivery is None:
            raise exceptions.NotFound("Delivery not found.")
        again = sweep.delivery_redeliver(delivery=delivery, actor=request.user)
        again = webhook_selectors.delivery_get(webhook=again.webhook, delivery_id=again.pk)
        return Response(DeliverySerializer(again).data, status=status.HTTP_202_ACCEPTED)


class WebhookTestBase(WebhookApi):
    @extend_schema(
        tags=TAGS,
        request=None,
        responses={202: DeliverySerializer, 404: NOT_FOUND},
        description="Queue a test event (shaped like a push of tag `test`) to this hook.",
    )
    def post(self, request, **kwargs):
        hook = self.webhook()
        delivery = hook_services.webhook_test(webhook=hook, actor=request.user)
        delivery = webhook_selectors.delivery_get(webhook=hook, delivery_id=delivery.pk)
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class WebhookListApi(RepositoryOwned, WebhookListBase):
    pass


class WebhookDetailApi(RepositoryOwned, WebhookDetailBase):
    pass


@extend_schema_view(get=extend_schema(operation_id="repositories_webhooks_deliveries_list"))
class WebhookDeliveryListApi(RepositoryOwned, WebhookDeliveryListBase):
    pass


class WebhookRedeliverApi(RepositoryOwned, WebhookRedeliverBase):
    pass


class WebhookTestApi(RepositoryOwned, WebhookTestBase):
    pass


class OrgWebhookListApi(OrganizationOwned, WebhookListBase):
    pass


class OrgWebhookDetailApi(OrganizationOwned, WebhookDetailBase):
    pass


@extend_schema_view(get=extend_schema(operation_id="orgs_webhooks_deliveries_list"))
class OrgWebhookDeliveryListApi(OrganizationOwned, WebhookDeliveryListBase):
    pass


class OrgWebhookRedeliverApi(OrganizationOwned, WebhookRedeliverBase):
    pass


class OrgWebhookTestApi(OrganizationOwned, WebhookTestBase):
    pass
