"""Retention policy writes: create, change, delete. Validation is the model's (field validators
and RetentionPolicy.clean), raised as Django's ValidationError for every surface to show."""

from __future__ import annotations

from django.db import transaction

from hub.audit import audit_record
from registry_api.models import RetentionPolicy

RULE_FIELDS = (
    "tag_pattern",
    "keep_last",
    "keep_pulled_within_days",
    "untagged_older_than_days",
    "protect_pattern",
    "evict_not_pulled_days",
    "enabled",
    "schedule",
)


def policy_audit(action: str, policy: RetentionPolicy, actor) -> None:
    """One audit entry for a policy's creation, change or deletion, with its rules."""
    rules = {name: getattr(policy, name) for name in RULE_FIELDS}
    audit_record(
        action=action, actor=actor, target=policy.scope_name, data={"policy": policy.pk, **rules}
    )


@transaction.atomic
def retention_policy_create(*, actor, repository=None, namespace=None, **rules) -> RetentionPolicy:
    """A policy for one repository or (without `repository`) a whole namespace."""
    policy = RetentionPolicy(
        repository=repository,
        namespace=None if repository is not None else namespace,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        **{name: value for name, value in rules.items() if name in RULE_FIELDS},
    )
    policy.full_clean()
    policy.save()
    policy_audit("retention.policy_create", policy, actor)
    return policy


@transaction.atomic
def retention_policy_update(*, policy: RetentionPolicy, actor, **rules) -> RetentionPolicy:
    for name, value in rules.items():
        if name in RULE_FIELDS:
            setattr(policy, name, value)
    policy.full_clean()
    policy.save()
    policy_audit("retention.policy_update", policy, actor)
    return policy


@transaction.atomic
def retention_policy_delete(*, policy: RetentionPolicy, actor) -> None:
    policy_audit("retention.policy_delete", policy, actor)
    policy.delete()
