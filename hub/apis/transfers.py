"""Rename or transfer a repository, and manage the redirects its old names left."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from hub import permissions, selectors
from hub.apis.common import BaseApi, deny, errors, id_or_404, repository_for
from hub.apis.repositories import (
    REPOSITORY_PARAMETERS,
    RepositoryDetailOutputSerializer,
    repository_detail_data,
)
from hub.authentication import request_scopes
from hub.services.transfers import redirect_delete, repository_transfer
from registry_api.services.quotas import quota_check_transfer


def _repository_for_owner(request, namespace: str, name: str):
    """The repository if the caller may rename it; 404 if they may not see it, else 403."""
    repository = repository_for(request, namespace, name)
    if not permissions.can_transfer(request.user, repository, request_scopes(request)):
        deny(request, "Only the owners of the repository's namespace rename or transfer it.")
    return repository


@extend_schema(parameters=REPOSITORY_PARAMETERS)
class RepositoryTransferApi(BaseApi):
    class InputSerializer(serializers.Serializer):
        namespace = serializers.CharField(
            max_length=64, required=False, help_text="Omitted: the current namespace."
        )
        name = serializers.CharField(
            max_length=255, required=False, help_text="Omitted: the current name."
        )

        class Meta:
            ref_name = "RepositoryTransfer"

    @extend_schema(
        operation_id="repositories_transfer",
        request=InputSerializer,
        responses={200: RepositoryDetailOutputSerializer, **errors(400, 401, 403, 404)},
        description=(
            "Rename the repository and/or move it to another namespace (where the caller may "
            "create repositories). The old name redirects to the new one: pulls, pages and API "
            "calls of it keep working until a repository is created there or the redirect is "
            "deleted; pushes to it are refused."
        ),
    )
    def post(self, request, namespace, name):
        repository = _repository_for_owner(request, namespace, name)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        destination = repository.namespace
        if "namespace" in data.validated_data:
            destination = selectors.namespace_get(name=data.validated_data["namespace"])
            if destination is None:
                raise exceptions.ValidationError({"namespace": ["There is no such namespace."]})
        scopes = request_scopes(request)
        if destination.pk != repository.namespace_id and not permissions.can_create(
            request.user, destination, scopes
        ):
            deny(request, "You may not create repositories in that namespace.")
        quota_check_transfer(repository=repository, namespace=destination)
        repository_transfer(
            repository=repository,
            namespace=destination,
            name=data.validated_data.get("name", repository.name),
            actor=request.user,
        )
        return Response(repository_detail_data(request, repository))


class RedirectOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    namespace = serializers.CharField(source="namespace.name")
    name = serializers.CharField()
    full_name = serializers.CharField()
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(source="created_by.username", default=None)

    class Meta:
        ref_name = "RepositoryRedirect"


@extend_schema(parameters=REPOSITORY_PARAMETERS)
class RepositoryRedirectListApi(BaseApi):
    @extend_schema(
        operation_id="repositories_redirects_list",
        responses={200: RedirectOutputSerializer(many=True), **errors(401, 403, 404)},
        description="The old names that still lead to this repository.",
    )
    def get(self, request, namespace, name):
        repository = _repository_for_owner(request, namespace, name)
        redirects = selectors.repository_redirect_list(repository=repository)
        return Response(RedirectOutputSerializer(redirects, many=True).data)


@extend_schema(parameters=REPOSITORY_PARAMETERS)
class RepositoryRedirectDetailApi(BaseApi):
    @extend_schema(
        operation_id="repositories_redirects_destroy",
        responses={204: None, **errors(401, 403, 404)},
        description="Remove an old name: from then on it is unknown, like any free name.",
    )
    def delete(self, request, namespace, name, redirect_id):
        repository = _repository_for_owner(request, namespace, name)
        redirect = repository.redirects.filter(pk=id_or_404(redirect_id)).first()
        if redirect is None:
            raise exceptions.NotFound("No such redirect.")
        redirect_delete(redirect=redirect, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
