"""The registry-wide vulnerability page: per repository the caller can see, counts by severity."""

from __future__ import annotations

from django.shortcuts import render

from scanning import selectors


def vulnerability_overview(request):
    findings = selectors.visible_findings(user=request.user)
    context = {
        "summary": selectors.severity_summary(findings),
        "repositories": sorted(
            selectors.repository_summaries(findings).items(),
            key=lambda item: (-item[1]["critical"], -item[1]["high"], item[0]),
        ),
    }
    return render(request, "scanning/vulnerability_overview.html", context)
