"""The one write of a repository's scan pull policy."""

from __future__ import annotations

from django.db import transaction

from hub.audit import audit_record
from scanning.models import ScanPolicy


@transaction.atomic
def scan_policy_set(*, repository, refuse_critical_after_days: int | None, actor) -> ScanPolicy:
    policy, _ = ScanPolicy.objects.update_or_create(
        repository=repository,
        defaults={"refuse_critical_after_days": refuse_critical_after_days},
    )
    audit_record(
        action="scan_policy.update",
        actor=actor,
        target=repository.full_name,
        data={"refuse_critical_after_days": refuse_critical_after_days},
    )
    return policy
