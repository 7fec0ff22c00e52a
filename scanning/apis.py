"""REST API: a tag's SBOM packages and vulnerabilities, repository- and registry-wide views,
package search, and the repository's scan pull policy."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from hub.apis.common import BaseApi, PaginatedApi, errors, repository_for
from hub.apis.repositories import REPOSITORY_PARAMETERS
from registry_api.selectors.tags import tag_get, tag_list
from scanning import selectors
from scanning.services.policies import scan_policy_set

TAG_PARAMETERS = [*REPOSITORY_PARAMETERS, OpenApiParameter("tag", str, "path")]


def _tag(request, namespace, name, tag_name):
    repository = repository_for(request, namespace, name)
    tag = tag_get(repository=repository, name=tag_name)
    if tag is None:
        raise exceptions.NotFound("Tag not found.")
    return tag


class PackageSerializer(serializers.Serializer):
    ecosystem = serializers.CharField()
    name = serializers.CharField()
    version = serializers.CharField()
    purl = serializers.CharField()
    source_layer = serializers.CharField()
    image = serializers.CharField(source="manifest.digest")

    class Meta:
        ref_name = "ImagePackage"


class SummarySerializer(serializers.Serializer):
    critical = serializers.IntegerField()
    high = serializers.IntegerField()
    medium = serializers.IntegerField()
    low = serializers.IntegerField()
    unknown = serializers.IntegerField()

    class Meta:
        ref_name = "VulnerabilitySummary"


class FindingSerializer(serializers.Serializer):
    id = serializers.CharField(source="advisory.osv_id")
    package = serializers.CharField(source="package.name")
    ecosystem = serializers.CharField(source="package.ecosystem")
    installed = serializers.CharField(source="package.version")
    fixed = serializers.CharField(source="fixed_version")
    severity = serializers.CharField()
    summary = serializers.CharField(source="advisory.summary")
    aliases = serializers.ListField(source="advisory.aliases", child=serializers.CharField())
    image = serializers.CharField(source="manifest.digest")

    class Meta:
        ref_name = "Vulnerability"


class TagVulnerabilitiesSerializer(serializers.Serializer):
    summary = SummarySerializer()
    scanned = serializers.BooleanField()
    results = FindingSerializer(many=True)

    class Meta:
        ref_name = "TagVulnerabilities"


@extend_schema(parameters=[*TAG_PARAMETERS, OpenApiParameter("q", str, description="filter")])
class TagSbomApi(PaginatedApi):
    @extend_schema(
        operation_id="tags_sbom", responses={200: PackageSerializer(many=True), **errors(401, 404)}
    )
    def get(self, request, namespace, name, tag):
        tag = _tag(request, namespace, name, tag)
        packages = selectors.tag_packages(tag=tag, query=request.GET.get("q", "")[:100])
        return self.paginated(packages.select_related("manifest"), PackageSerializer)


@extend_schema(parameters=TAG_PARAMETERS)
class TagVulnerabilitiesApi(BaseApi):
    @extend_schema(
        operation_id="tags_vulnerabilities",
        responses={200: TagVulnerabilitiesSerializer, **errors(401, 404)},
    )
    def get(self, request, namespace, name, tag):
        tag = _tag(request, namespace, name, tag)
        findings = selectors.tag_findings(tag=tag)
        data = {
            "summary": selectors.severity_summary(findings),
            "scanned": bool(selectors.tag_scans(tag=tag)),
            "results": findings.select_related("manifest"),
        }
        return Response(TagVulnerabilitiesSerializer(data).data)


class TagSummarySerializer(serializers.Serializer):
    tag = serializers.CharField()
    digest = serializers.CharField()
    summary = SummarySerializer()

    class Meta:
        ref_name = "TagVulnerabilitySummary"


class RepositoryVulnerabilitiesSerializer(serializers.Serializer):
    summary = SummarySerializer()
    tags = TagSummarySerializer(many=True)

    class Meta:
        ref_name = "RepositoryVulnerabilities"


@extend_schema(parameters=REPOSITORY_PARAMETERS)
class RepositoryVulnerabilitiesApi(BaseApi):
    @extend_schema(
        operation_id="repositories_vulnerabilities",
        responses={200: RepositoryVulnerabilitiesSerializer, **errors(401, 404)},
    )
    def get(self, request, namespace, name):
        repository = repository_for(request, namespace, name)
        tags = [
            {
                "tag": tag.name,
                "digest": tag.manifest.digest,
                "summary": selectors.severity_summary(selectors.tag_findings(tag=tag)),
            }
            for tag in tag_list(repository=repository)[:200]
        ]
        summary = selectors.severity_summary(selectors.repository_findings(repository=repository))
        return Response(
            RepositoryVulnerabilitiesSerializer({"summary": summary, "tags": tags}).data
        )


class RegistryVulnerabilitiesSerializer(serializers.Serializer):
    summary = SummarySerializer()
    results = FindingSerializer(many=True)
    repositories = serializers.DictField(child=SummarySerializer())

    class Meta:
        ref_name = "RegistryVulnerabilities"


class RegistryVulnerabilitiesApi(BaseApi):
    """Every finding in repositories the caller can see (the first 500, most severe first)."""

    @extend_schema(
        operation_id="vulnerabilities_list",
        responses={200: RegistryVulnerabilitiesSerializer, **errors(401)},
    )
    def get(self, request):
        findings = selectors.visible_findings(user=request.user)
        per_repository = selectors.repository_summaries(findings)
        data = {
            "summary": selectors.severity_summary(findings),
            "results": selectors.most_severe(findings)[:500],
            "repositories": per_repository,
        }
        return Response(RegistryVulnerabilitiesSerializer(data).data)


class PackageSearchResultSerializer(PackageSerializer):
    repository = serializers.CharField(source="manifest.repository.full_name")
    tags = serializers.SerializerMethodField()

    class Meta:
        ref_name = "PackageSearchResult"

    def get_tags(self, package) -> list[str]:
        return selectors.manifest_tag_names(package.manifest)


@extend_schema(
    parameters=[
        OpenApiParameter("name", str, required=True, description="package name (exact)"),
        OpenApiParameter("version", str, description="exact version"),
    ]
)
class PackageSearchApi(PaginatedApi):
    """Which images contain a package (in repositories the caller can see)."""

    @extend_schema(
        operation_id="packages_search",
        responses={200: PackageSearchResultSerializer(many=True), **errors(400, 401)},
    )
    def get(self, request):
        name = request.GET.get("name", "").strip()
        if not name or len(name) > 255 or "\x00" in name:
            raise exceptions.ValidationError({"name": ["Give a package name."]})
        version = request.GET.get("version", "").strip()
        if len(version) > 255 or "\x00" in version:
            raise exceptions.ValidationError({"version": ["Too long."]})
        packages = selectors.package_search(user=request.user, name=name, version=version)
        return self.paginated(packages, PackageSearchResultSerializer)


class ScanPolicySerializer(serializers.Serializer):
    refuse_critical_after_days = serializers.IntegerField(
        min_value=0, max_value=36500, allow_null=True
    )

    class Meta:
        ref_name = "ScanPolicy"


@extend_schema(parameters=REPOSITORY_PARAMETERS)
class ScanPolicyApi(BaseApi):
    """Pull policy: refuse images with critical vulnerabilities known more than N days (null:
    off). Repository administrators only."""

    @extend_schema(
        operation_id="scan_policy_retrieve",
        responses={200: ScanPolicySerializer, **errors(401, 403, 404)},
    )
    def get(self, request, namespace, name):
        repository = repository_for(request, namespace, name, action="admin")
        policy = getattr(repository, "scan_policy", None)
        days = policy.refuse_critical_after_days if policy else None
        return Response({"refuse_critical_after_days": days})

    @extend_schema(
        operation_id="scan_policy_update",
        request=ScanPolicySerializer,
        responses={200: ScanPolicySerializer, **errors(400, 401, 403, 404)},
    )
    def put(self, request, namespace, name):
        repository = repository_for(request, namespace, name, action="admin")
        serializer = ScanPolicySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        policy = scan_policy_set(
            repository=repository,
            refuse_critical_after_days=serializer.validated_data["refuse_critical_after_days"],
            actor=request.user,
        )
        return Response({"refuse_critical_after_days": policy.refuse_critical_after_days})
