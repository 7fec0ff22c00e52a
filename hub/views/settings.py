"""Repository settings for its admins: details, collaborators, tags, deletion, webhooks link."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from hub import permissions, selectors
from hub.forms_repository import (
    CollaboratorAddForm,
    CollaboratorRoleForm,
    ImmutabilityRuleForm,
    RepositoryDeleteForm,
    RepositorySettingsForm,
)
from hub.models import Collaborator, Repository
from hub.services import repositories as repository_services
from hub.services import social
from hub.views.repositories import repository_for_view
from hub.views.retention_settings import retention_context
from hub.views.tag_rows import tag_rows
from hub.views.transfers import transfer_context
from registry_api.selectors.tags import tag_get
from registry_api.service_errors import ServiceError
from registry_api.services import immutability
from registry_api.services import tags as tag_services


def _repository_for_admin(request, namespace, name) -> Repository:
    """Admins only; others get the same 404 a missing repository gives (hides private ones)."""
    repository = repository_for_view(request, namespace, name)
    if not permissions.can_admin(request.user, repository):
        raise Http404
    return repository


def _settings_url(repository: Repository) -> str:
    return reverse("hub:repository-settings", args=[repository.namespace.name, repository.name])


def _webhooks_url(repository: Repository) -> str | None:
    try:
        return reverse(
            "webhooks:list",
            kwargs={"namespace": repository.namespace.name, "name": repository.name},
        )
    except NoReverseMatch:
        return None


def _render_settings(request, repository, **forms):
    tags = tag_rows(repository=repository)
    namespace_admin = permissions.can_admin_namespace(request.user, repository.namespace)
    protected = immutability.protected_tags(repository, [row.tag.name for row in tags])
    context = {
        "repository": repository,
        "can_admin": True,
        "settings_form": forms.get("settings_form") or RepositorySettingsForm(instance=repository),
        "collaborator_form": forms.get("collaborator_form") or CollaboratorAddForm(),
        "delete_form": forms.get("delete_form") or RepositoryDeleteForm(repository=repository),
        "collaborators": selectors.collaborator_list(repository=repository),
        "role_choices": Collaborator.Role.choices,
        "tags": tags,
        "webhooks_url": _webhooks_url(repository),
        "immutability_rules": immutability.rules_for(repository).select_related("created_by"),
        "tag_entries": [(row, protected.get(row.tag.name)) for row in tags],
        "protected_tags": protected,
        "namespace_admin": namespace_admin,
        "immutability_form": forms.get("immutability_form")
        or ImmutabilityRuleForm(namespace_admin=namespace_admin),
        **retention_context(repository, **forms),
        **transfer_context(request, repository, **forms),
    }
    return render(request, "hub/repository_settings.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def repository_settings(request, namespace, name):
    repository = _repository_for_admin(request, namespace, name)
    if request.method == "GET":
        return _render_settings(request, repository)
    form = RepositorySettingsForm(request.POST, instance=repository)
    if not form.is_valid():
        repository.refresh_from_db()
        return _render_settings(request, repository, settings_form=form)
    # Validation wrote the new values onto the instance: the service compares against the
    # stored ones (which fields the owner changed, whether visibility changed).
    repository.refresh_from_db()
    repository_services.repository_update(
        repository=repository, actor=request.user, **form.cleaned_data
    )
    messages.success(request, _("Settings saved."))
    return redirect(_settings_url(repository))


@login_required
@require_POST
def collaborator_add(request, namespace, name):
    repository = _repository_for_admin(request, namespace, name)
    form = CollaboratorAddForm(request.POST)
    if form.is_valid():
        try:
            collaborator = social.collaborator_add(
                repository=repository,
                username=form.cleaned_data["username"].strip(),
                role=form.cleaned_data["role"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("%(user)s is now a collaborator (%(role)s).")
                % {"user": collaborator.user.username, "role": collaborator.get_role_display()},
            )
            return redirect(_settings_url(repository) + "#collaborators")
    return _render_settings(request, repository, collaborator_form=form)


@login_required
@require_POST
def collaborator_update(request, namespace, name, username):
    repository = _repository_for_admin(request, namespace, name)
    collaborator = get_object_or_404(
        Collaborator.objects.select_related("user"), repository=repository, user__username=username
    )
    if request.POST.get("action") == "remove":
        social.collaborator_remove(collaborator=collaborator)
        messages.success(request, _("%(user)s removed.") % {"user": username})
    else:
        form = CollaboratorRoleForm(request.POST)
        if form.is_valid():
            social.collaborator_update(collaborator=collaborator, role=form.cleaned_data["role"])
            messages.success(request, _("Role of %(user)s changed.") % {"user": username})
        else:
            messages.error(request, _("Choose a valid role."))
    return redirect(_settings_url(repository) + "#collaborators")


@login_required
@require_POST
def tag_delete(request, namespace, name, tag):
    repository = _repository_for_admin(request, namespace, name)
    found = tag_get(repository=repository, name=tag)
    if found is None:
        raise Http404
    try:
        tag_services.tag_delete(tag=found, actor=request.user)
    except ServiceError as refusal:  # an immutability rule protects it
        messages.error(request, refusal.message)
    else:
        messages.success(request, _("Tag %(tag)s deleted.") % {"tag": tag})
    return redirect(_settings_url(repository) + "#tags")


@login_required
@require_POST
def immutability_rule_add(request, namespace, name):
    repository = _repository_for_admin(request, namespace, name)
    namespace_admin = permissions.can_admin_namespace(request.user, repository.namespace)
    form = ImmutabilityRuleForm(request.POST, namespace_admin=namespace_admin)
    if form.is_valid():
        whole_namespace = form.cleaned_data.get("scope") == "namespace"
        try:
            rule = immutability.rule_create(
                pattern=form.cleaned_data["pattern"],
                actor=request.user,
                request=request,
                **(
                    {"namespace": repository.namespace}
                    if whole_namespace
                    else {"repository": repository}
                ),
            )
        except ValidationError as error:
            form.add_error("pattern", error.message_dict.get("pattern", error.messages))
        else:
            messages.success(
                request,
                _("Tags matching %(pattern)s are now immutable.") % {"pattern": rule.pattern},
            )
            return redirect(_settings_url(repository) + "#immutability")
    return _render_settings(request, repository, immutability_form=form)


@login_required
@require_POST
def immutability_rule_delete(request, namespace, name, rule_id):
    """Lift a rule: the repository's own (its admins), or its namespace's (the owners)."""
    repository = _repository_for_admin(request, namespace, name)
    rule = get_object_or_404(immutability.rules_for(repository), pk=rule_id)
    if rule.namespace_id and not permissions.can_admin_namespace(
        request.user, repository.namespace
    ):
        messages.error(request, _("Only the namespace's owners may lift a namespace rule."))
        return redirect(_settings_url(repository) + "#immutability")
    immutability.rule_delete(rule=rule, actor=request.user, request=request)
    messages.success(request, _("Rule %(pattern)s lifted.") % {"pattern": rule.pattern})
    return redirect(_settings_url(repository) + "#immutability")


@login_required
@require_POST
def repository_delete(request, namespace, name):
    repository = _repository_for_admin(request, namespace, name)
    form = RepositoryDeleteForm(request.POST, repository=repository)
    if not form.is_valid():
        return _render_settings(request, repository, delete_form=form)
    full_name = repository.full_name
    profile_url = repository.namespace.get_absolute_url()
    repository_services.repository_delete(repository=repository, actor=request.user)
    messages.success(request, _("Repository %(name)s deleted.") % {"name": full_name})
    return redirect(profile_url)
