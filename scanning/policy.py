"""The repository pull policy: refuse images with critical vulnerabilities known N days."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from registry_api import lookups
from registry_api.errors import Denied
from registry_api.models import Manifest
from scanning.models import Finding, ScanPolicy, Severity


def vulnerability_pull_check(*, repository, manifest: Manifest) -> None:
    """Raise DENIED when the policy refuses pulling `manifest` (an image, or an index one of
    whose images is refused); do nothing when there is no policy."""
    if repository is None:
        return
    policy = _policy(repository)
    if policy.refuse_critical_after_days is None:
        return
    cutoff = timezone.now() - timedelta(days=policy.refuse_critical_after_days)
    manifest_ids = [
        manifest.pk,
        *Manifest.objects.filter(parents=manifest).values_list("pk", flat=True),
    ]
    old_critical = Finding.objects.filter(
        manifest_id__in=manifest_ids, severity=Severity.CRITICAL, first_seen_at__lte=cutoff
    ).select_related("advisory", "package")
    finding = old_critical.order_by("first_seen_at").first()
    if finding is None:
        return
    package, days = finding.package, policy.refuse_critical_after_days
    fix = f" ({package.name} {finding.fixed_version})" if finding.fixed_version else ""
    raise Denied(
        {
            "vulnerability": finding.advisory.osv_id,
            "package": package.name,
            "installed": package.version,
            "fixed": finding.fixed_version,
        },
        message=(
            f"pull refused by the repository's policy: {finding.advisory.osv_id} (critical, in "
            f"{package.name} {package.version}) has been known for more than {days} days; "
            f"push a fixed image{fix}"
        ),
    )


def _policy(repository) -> ScanPolicy:
    """The repository's policy (an unsaved empty one when it has none), remembered per process
    under the repository's lookup token, which every policy save or delete replaces
    (scanning.receivers): a manifest GET reads no policy row while nothing changed."""
    entry_key = ("scan-policy", repository.pk)
    current = lookups.tokens([lookups.repository_key(repository.pk)])
    policy = lookups.remembered(entry_key, current)
    if policy is None:
        policy = ScanPolicy.objects.filter(repository=repository).first()
        policy = policy or ScanPolicy(repository_id=repository.pk)
        lookups.remember(entry_key, current, policy)
    return policy
