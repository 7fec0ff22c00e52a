"""Scanning's REST routes; included before hub's, whose repository route (`<path:name>`) would
otherwise take them."""

from django.urls import path

from scanning import apis

app_name = "scanning-api"

REPO = "repositories/<str:namespace>/<path:name>"

urlpatterns = [
    path(f"{REPO}/tags/<str:tag>/sbom/", apis.TagSbomApi.as_view(), name="tag-sbom"),
    path(
        f"{REPO}/tags/<str:tag>/vulnerabilities/",
        apis.TagVulnerabilitiesApi.as_view(),
        name="tag-vulnerabilities",
    ),
    path(
        f"{REPO}/vulnerabilities/",
        apis.RepositoryVulnerabilitiesApi.as_view(),
        name="repository-vulnerabilities",
    ),
    path(f"{REPO}/scan-policy/", apis.ScanPolicyApi.as_view(), name="scan-policy"),
    path("vulnerabilities/", apis.RegistryVulnerabilitiesApi.as_view(), name="vulnerabilities"),
    path("search/packages/", apis.PackageSearchApi.as_view(), name="package-search"),
]
