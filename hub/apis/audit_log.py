"""The audit log over the REST API: administrators read every entry, organization owners their
organization's (`/orgs/{name}/audit-log/`), everyone else their own account's. Exports (CSV or
JSON) are streamed, so a big log is never held in memory."""

from __future__ import annotations

import csv
import json

from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import renderers, serializers
from rest_framework.permissions import IsAuthenticated

from hub.apis.common import PaginatedApi, errors
from hub.apis.organizations import _manage_check, _organization_namespace_or_404
from hub.audit import entry_json
from hub.models import AuditEntry
from hub.selectors_audit import (
    audit_admin,
    audit_filter,
    audit_list_all,
    audit_list_namespace,
    audit_list_own,
)

EXPORT_FIELDS = (
    "id",
    "time",
    "actor",
    "actor_kind",
    "action",
    "target",
    "namespace",
    "result",
    "request_id",
    "client_address",
    "user_agent",
    "data",
)


class AuditFilterSerializer(serializers.Serializer):
    actor = serializers.CharField(required=False, max_length=150)
    action = serializers.CharField(required=False, max_length=64)
    target = serializers.CharField(required=False, max_length=300)
    result = serializers.ChoiceField(choices=["ok", "denied", "failed"], required=False)
    actor_kind = serializers.ChoiceField(choices=AuditEntry.ActorKind.values, required=False)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)

    def validate(self, attrs):
        since, until = attrs.get("since"), attrs.get("until")
        if since and until and since > until:
            raise serializers.ValidationError({"until": ["Must not be before `since`."]})
        return attrs

    class Meta:
        ref_name = "AuditFilter"


class AuditEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    time = serializers.DateTimeField(source="created_at")
    actor = serializers.CharField(source="actor_name")
    actor_kind = serializers.CharField()
    action = serializers.CharField()
    target = serializers.CharField()
    namespace = serializers.CharField()
    result = serializers.CharField()
    request_id = serializers.CharField()
    client_address = serializers.IPAddressField(allow_null=True)
    user_agent = serializers.CharField()
    data = serializers.JSONField()

    class Meta:
        ref_name = "AuditEntry"


class CsvRenderer(renderers.BaseRenderer):
    """Lets `?format=csv` through content negotiation; the view streams the body itself."""

    media_type = "text/csv"
    format = "csv"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return json.dumps(data).encode() if data is not None else b""


class _Echo:
    def write(self, value):
        return value


def _csv_rows(queryset):
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_FIELDS)
    for entry in queryset.iterator(chunk_size=1000):
        row = entry_json(entry)
        row["data"] = json.dumps(row["data"], sort_keys=True)
        # A cell starting with = + - @ is a formula to spreadsheets: quote it as text.
        yield writer.writerow(
            [
                "'" + v if isinstance(v, str) and v[:1] in "=+-@" else v
                for v in map(row.get, EXPORT_FIELDS)
            ]
        )


def _json_array(queryset):
    yield "["
    first = True
    for entry in queryset.iterator(chunk_size=1000):
        yield ("" if first else ",\n") + json.dumps(entry_json(entry), sort_keys=True)
        first = False
    yield "]\n"


FILTERS = [
    OpenApiParameter("actor", str, description="Username of the actor (exact)."),
    OpenApiParameter("action", str, description="Action, e.g. `push`; `webhook.` for a prefix."),
    OpenApiParameter("target", str, description="Target prefix, e.g. `acme/app`."),
    OpenApiParameter("result", str, enum=["ok", "denied", "failed"]),
    OpenApiParameter("actor_kind", str, enum=AuditEntry.ActorKind.values),
    OpenApiParameter("since", str, description="ISO 8601 time; entries at or after it."),
    OpenApiParameter("until", str, description="ISO 8601 time; entries before it."),
]


class _AuditApi(PaginatedApi):
    permission_classes = [IsAuthenticated]

    def scope(self, request, name: str | None):
        if name is not None:
            namespace = _organization_namespace_or_404(name)
            if not audit_admin(request.user):
                _manage_check(request, namespace)
            return audit_list_namespace(namespace=namespace)
        if audit_admin(request.user):
            return audit_list_all()
        return audit_list_own(user=request.user)

    def entries(self, request, name: str | None):
        filters = AuditFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return audit_filter(self.scope(request, name), **filters.validated_data)


class AuditLogApi(_AuditApi):
    @extend_schema(
        operation_id="audit_log_list",
        parameters=FILTERS,
        responses={200: AuditEntrySerializer(many=True), **errors(400, 401, 403, 404)},
    )
    def get(self, request, name: str | None = None):
        """Audit entries, newest first: all (administrators), an organization's (its owners,
        under /orgs/{name}/), else the caller's own account's."""
        return self.paginated(self.entries(request, name), AuditEntrySerializer)


class AuditLogExportApi(_AuditApi):
    renderer_classes = [renderers.JSONRenderer, CsvRenderer]
    pagination_class = None  # every entry, streamed: the schema must not say "paginated"

    @extend_schema(
        operation_id="audit_log_export",
        parameters=[*FILTERS, OpenApiParameter("format", str, enum=["json", "csv"])],
        responses={200: AuditEntrySerializer(many=True), **errors(400, 401, 403, 404)},
    )
    def get(self, request, name: str | None = None):
        """Every matching entry (no pages), streamed: `?format=csv` or `?format=json`."""
        queryset = self.entries(request, name)
        if request.accepted_renderer.format == "csv":
            response = StreamingHttpResponse(_csv_rows(queryset), content_type="text/csv")
            filename = "audit-log.csv"
        else:
            response = StreamingHttpResponse(_json_array(queryset), content_type="application/json")
            filename = "audit-log.json"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


ORG = OpenApiParameter("name", str, "path", description="Organization.")


class OrgAuditLogApi(AuditLogApi):
    @extend_schema(
        operation_id="orgs_audit_log_list",
        parameters=[ORG, *FILTERS],
        responses={200: AuditEntrySerializer(many=True), **errors(400, 401, 403, 404)},
    )
    def get(self, request, name: str):
        """The organization's audit entries, newest first (its owners and administrators)."""
        return super().get(request, name)


class OrgAuditLogExportApi(AuditLogExportApi):
    @extend_schema(
        operation_id="orgs_audit_log_export",
        parameters=[ORG, *FILTERS, OpenApiParameter("format", str, enum=["json", "csv"])],
        responses={200: AuditEntrySerializer(many=True), **errors(400, 401, 403, 404)},
    )
    def get(self, request, name: str):
        """The organization's matching entries, streamed: `?format=csv` or `?format=json`."""
        return super().get(request, name)
