"""The "Retention" section of a repository's settings: its policies, a form to add one, a
preview (dry run) of what a policy would delete, "Run now" and delete. Admins only, like the
rest of the settings page (hub.views.settings renders it)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from registry_api.models import RetentionPolicy
from registry_api.services.retention import retention_run
from registry_api.services.retention_policies import (
    RULE_FIELDS,
    retention_policy_create,
    retention_policy_delete,
    retention_policy_update,
)


class RetentionPolicyForm(forms.ModelForm):
    class Meta:
        model = RetentionPolicy
        fields = list(RULE_FIELDS)
        labels = {
            "tag_pattern": gettext_lazy("Tag pattern"),
            "keep_last": gettext_lazy("Keep the last N tags"),
            "keep_pulled_within_days": gettext_lazy("Keep tags pulled within (days)"),
            "untagged_older_than_days": gettext_lazy("Delete untagged manifests older than (days)"),
            "protect_pattern": gettext_lazy("Always keep tags matching"),
            "evict_not_pulled_days": gettext_lazy("Proxy cache: evict if not pulled for (days)"),
            "enabled": gettext_lazy("Enabled"),
            "schedule": gettext_lazy("Schedule"),
        }


def _edit_form(policy, bound=None) -> RetentionPolicyForm:
    if bound is not None and bound.instance.pk == policy.pk:
        return bound
    return RetentionPolicyForm(instance=policy, prefix=f"policy-{policy.pk}")


def retention_context(
    repository, *, retention_form=None, retention_edit=None, retention_preview=None, **_
) -> dict:
    """What the settings template's Retention include needs: each policy with its edit form."""
    policies = RetentionPolicy.objects.filter(repository=repository).order_by("pk")
    return {
        "retention_policies": [(policy, _edit_form(policy, retention_edit)) for policy in policies],
        "retention_form": retention_form or RetentionPolicyForm(),
        "retention_preview": retention_preview,
    }


def _section_url(repository) -> str:
    args = [repository.namespace.name, repository.name]
    return reverse("hub:repository-settings", args=args) + "#retention"


def _admin_repository(request, namespace, name):
    from hub.views.settings import _repository_for_admin

    return _repository_for_admin(request, namespace, name)


def _render(request, repository, **extra):
    from hub.views.settings import _render_settings

    return _render_settings(request, repository, **extra)


@login_required
@require_POST
def retention_policy_add(request, namespace, name):
    repository = _admin_repository(request, namespace, name)
    form = RetentionPolicyForm(request.POST, instance=RetentionPolicy(repository=repository))
    if form.is_valid():
        try:
            retention_policy_create(actor=request.user, repository=repository, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Retention policy added."))
            return redirect(_section_url(repository))
    return _render(request, repository, retention_form=form)


def _policy(repository, policy_id: int) -> RetentionPolicy:
    return get_object_or_404(
        RetentionPolicy.objects.select_related("repository__namespace"),
        pk=policy_id,
        repository=repository,
    )


@login_required
@require_POST
def retention_policy_change(request, namespace, name, policy_id):
    repository = _admin_repository(request, namespace, name)
    policy = _policy(repository, policy_id)
    form = RetentionPolicyForm(request.POST, instance=policy, prefix=f"policy-{policy.pk}")
    if form.is_valid():
        retention_policy_update(policy=policy, actor=request.user, **form.cleaned_data)
        messages.success(request, _("Retention policy saved."))
        return redirect(_section_url(repository))
    return _render(request, repository, retention_edit=form)


@login_required
@require_POST
def retention_policy_preview(request, namespace, name, policy_id):
    repository = _admin_repository(request, namespace, name)
    policy = _policy(repository, policy_id)
    result = retention_run(policy, dry_run=True, actor=request.user)
    return _render(request, repository, retention_preview={"policy": policy, "result": result})


@login_required
@require_POST
def retention_policy_run(request, namespace, name, policy_id):
    repository = _admin_repository(request, namespace, name)
    result = retention_run(_policy(repository, policy_id), dry_run=False, actor=request.user)
    messages.success(
        request,
        _("Retention ran: %(tags)d tag(s) and %(manifests)d manifest(s) deleted.")
        % {"tags": len(result.tags), "manifests": len(result.manifests)},
    )
    return redirect(_section_url(repository))


@login_required
@require_POST
def retention_policy_remove(request, namespace, name, policy_id):
    repository = _admin_repository(request, namespace, name)
    retention_policy_delete(policy=_policy(repository, policy_id), actor=request.user)
    messages.success(request, _("Retention policy deleted."))
    return redirect(_section_url(repository))
