"""Immutability rules of a repository and of a namespace: list, create, get, lift (delete).

Anyone who may pull a repository may read the rules that cover it (so clients know why a push
is refused); its admins add and lift the repository's own rules. A namespace's rules, which
cover all its repositories, are its owners' (and superusers') to read and change.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from hub import permissions, selectors
from hub.api_permissions import scope_denied_message
from hub.apis.common import BaseApi, PaginatedApi, deny, errors, id_or_404, repository_for
from hub.apis.repositories import REPOSITORY_PARAMETERS
from hub.authentication import request_scopes
from hub.names import PATH_COMPONENT_RE
from registry_api.models import ImmutabilityRule
from registry_api.services import immutability
from registry_api.services.immutability import MAX_PATTERN_LENGTH

RULE_NOT_FOUND = "Immutability rule not found."


class ImmutabilityRuleSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    pattern = serializers.CharField(
        help_text='A glob ("v*", "release-*", "*") or "re:<regex>", searched in the tag name.'
    )
    scope = serializers.SerializerMethodField(help_text='"repository" or "namespace".')
    repository = serializers.CharField(source="repository.full_name", allow_null=True)
    namespace = serializers.SerializerMethodField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True)
    created_at = serializers.DateTimeField()

    class Meta:
        ref_name = "ImmutabilityRule"

    def get_scope(self, rule) -> str:
        return "repository" if rule.repository_id else "namespace"

    def get_namespace(self, rule) -> str:
        return rule.repository.namespace.name if rule.repository_id else rule.namespace.name


class RuleInputSerializer(serializers.Serializer):
    pattern = serializers.CharField(max_length=MAX_PATTERN_LENGTH, trim_whitespace=True)

    class Meta:
        ref_name = "ImmutabilityRuleCreate"


def _created(rule) -> Response:
    return Response(ImmutabilityRuleSerializer(rule).data, status=status.HTTP_201_CREATED)


@extend_schema(parameters=REPOSITORY_PARAMETERS)
class RepositoryRuleListApi(PaginatedApi):
    @extend_schema(
        operation_id="immutability_rules_list",
        description="The rules covering the repository: its own and its namespace's.",
        responses={200: ImmutabilityRuleSerializer(many=True), **errors(401, 404)},
    )
    def get(self, request, namespace, name):
        repository = repository_for(request, namespace, name)
        rules = immutability.rules_for(repository).select_related("created_by")
        return self.paginated(rules, ImmutabilityRuleSerializer)

    @extend_schema(
        operation_id="immutability_rules_create",
        request=RuleInputSerializer,
        responses={201: ImmutabilityRuleSerializer, **errors(400, 401, 403, 404)},
    )
    def post(self, request, namespace, name):
        repository = repository_for(request, namespace, name, "admin")
        data = RuleInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rule = immutability.rule_create(
            repository=repository, actor=request.user, request=request, **data.validated_data
        )
        return _created(rule)


@extend_schema(parameters=[*REPOSITORY_PARAMETERS, OpenApiParameter("rule_id", int, "path")])
class RepositoryRuleDetailApi(BaseApi):
    def _rule(self, repository, rule_id: str) -> ImmutabilityRule:
        rule = immutability.rules_for(repository).filter(pk=id_or_404(rule_id)).first()
        if rule is None:
            raise exceptions.NotFound(RULE_NOT_FOUND)
        return rule

    @extend_schema(
        operation_id="immutability_rules_retrieve",
        responses={200: ImmutabilityRuleSerializer, **errors(401, 404)},
    )
    def get(self, request, namespace, name, rule_id):
        repository = repository_for(request, namespace, name)
        return Response(ImmutabilityRuleSerializer(self._rule(repository, rule_id)).data)

    @extend_schema(
        operation_id="immutability_rules_destroy",
        description="Lift a rule of the repository. A namespace's rule is lifted at "
        "/api/v1/namespaces/{namespace}/immutability-rules/{id}/ by the namespace's owners.",
        responses={204: None, **errors(401, 403, 404)},
    )
    def delete(self, request, namespace, name, rule_id):
        repository = repository_for(request, namespace, name, "admin")
        rule = self._rule(repository, rule_id)
        if rule.repository_id is None:
            raise exceptions.PermissionDenied(
                "This rule covers the whole namespace: its owners lift it on the namespace."
            )
        immutability.rule_delete(rule=rule, actor=request.user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _namespace_for_admin(request, name: str):
    """Namespaces are public (their pages are), so a refusal here reveals nothing: 401/403."""
    found = selectors.namespace_get(name=name) if PATH_COMPONENT_RE.match(name) else None
    if found is None:
        raise exceptions.NotFound("Namespace not found.")
    if permissions.namespace_role(request.user, found) != "admin":
        deny(request, "Only the namespace's owners may manage its immutability rules.")
    if not permissions.can_admin_namespace(request.user, found, request_scopes(request)):
        deny(request, scope_denied_message(request, "admin"))
    return found


NAMESPACE_PARAMETER = OpenApiParameter("namespace", str, "path")


@extend_schema(parameters=[NAMESPACE_PARAMETER])
class NamespaceRuleListApi(PaginatedApi):
    @extend_schema(
        operation_id="namespace_immutability_rules_list",
        description="Rules covering every repository of the namespace (its owners only).",
        responses={200: ImmutabilityRuleSerializer(many=True), **errors(401, 403, 404)},
    )
    def get(self, request, namespace):
        found = _namespace_for_admin(request, namespace)
        rules = ImmutabilityRule.objects.filter(namespace=found).select_related(
            "namespace", "created_by"
        )
        return self.paginated(rules, ImmutabilityRuleSerializer)

    @extend_schema(
        operation_id="namespace_immutability_rules_create",
        request=RuleInputSerializer,
        responses={201: ImmutabilityRuleSerializer, **errors(400, 401, 403, 404)},
    )
    def post(self, request, namespace):
        found = _namespace_for_admin(request, namespace)
        data = RuleInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rule = immutability.rule_create(
            namespace=found, actor=request.user, request=request, **data.validated_data
        )
        return _created(rule)


@extend_schema(parameters=[NAMESPACE_PARAMETER, OpenApiParameter("rule_id", int, "path")])
class NamespaceRuleDetailApi(BaseApi):
    def _rule(self, found, rule_id: str) -> ImmutabilityRule:
        rule = (
            ImmutabilityRule.objects.filter(namespace=found, pk=id_or_404(rule_id))
            .select_related("namespace", "created_by")
            .first()
        )
        if rule is None:
            raise exceptions.NotFound(RULE_NOT_FOUND)
        return rule

    @extend_schema(
        operation_id="namespace_immutability_rules_retrieve",
        responses={200: ImmutabilityRuleSerializer, **errors(401, 403, 404)},
    )
    def get(self, request, namespace, rule_id):
        found = _namespace_for_admin(request, namespace)
        return Response(ImmutabilityRuleSerializer(self._rule(found, rule_id)).data)

    @extend_schema(
        operation_id="namespace_immutability_rules_destroy",
        responses={204: None, **errors(401, 403, 404)},
    )
    def delete(self, request, namespace, rule_id):
        found = _namespace_for_admin(request, namespace)
        rule = self._rule(found, rule_id)
        immutability.rule_delete(rule=rule, actor=request.user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)
