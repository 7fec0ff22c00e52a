"""The tag page's scan panel: packages (with a filter) and vulnerabilities of the tag's images."""

from __future__ import annotations

from django import template

from scanning import selectors

register = template.Library()

PAGE_ROWS = 200


@register.simple_tag
def tag_scan(tag, request) -> dict:
    """Everything _tag_packages.html shows; `?pkg=` filters the package list, and an index's
    page shows the platform chosen with `?platform=` (all platforms when none is)."""
    query = request.GET.get("pkg", "")[:100].strip()
    platform = request.GET.get("platform", "")[:150]
    packages = selectors.tag_packages(tag=tag, query=query, platform=platform)
    findings = selectors.tag_findings(tag=tag, platform=platform)
    return {
        "scans": selectors.tag_scans(tag=tag, platform=platform),
        "query": query,
        "packages": list(packages[:PAGE_ROWS]),
        "package_count": packages.count(),
        "summary": selectors.severity_summary(findings),
        "findings": selectors.most_severe(findings)[:PAGE_ROWS],
    }
