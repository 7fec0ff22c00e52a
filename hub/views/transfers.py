"""Repository settings: rename or transfer the repository, remove the redirects of old names."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hub import permissions, selectors
from hub.forms_transfer import RepositoryTransferForm
from hub.services.transfers import redirect_delete, repository_transfer
from hub.views.repositories import repository_for_view
from registry_api.service_errors import QuotaExceeded
from registry_api.services.quotas import quota_check_transfer


def _repository_for_owner(request, namespace, name):
    """Namespace owners only; others get the 404 of a missing repository."""
    repository = repository_for_view(request, namespace, name)
    if not permissions.can_transfer(request.user, repository):
        raise Http404
    return repository


def transfer_context(request, repository, *, transfer_form=None, **_forms) -> dict:
    """What the settings template's "Rename or transfer" include needs."""
    if not permissions.can_transfer(request.user, repository):
        return {"can_transfer": False}
    return {
        "can_transfer": True,
        "transfer_form": transfer_form
        or RepositoryTransferForm(repository=repository, user=request.user),
        "redirects": selectors.repository_redirect_list(repository=repository),
    }


def _section_url(repository) -> str:
    url = reverse("hub:repository-settings", args=[repository.namespace.name, repository.name])
    return f"{url}#transfer"


@login_required
@require_POST
def repository_transfer_view(request, namespace, name):
    from hub.views.settings import _render_settings

    repository = _repository_for_owner(request, namespace, name)
    form = RepositoryTransferForm(request.POST, repository=repository, user=request.user)
    if form.is_valid():
        old_name = repository.full_name
        try:
            quota_check_transfer(repository=repository, namespace=form.cleaned_data["namespace"])
            repository_transfer(
                repository=repository,
                namespace=form.cleaned_data["namespace"],
                name=form.cleaned_data["name"],
                actor=request.user,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        except QuotaExceeded as exc:
            form.add_error("namespace", exc.message)
        else:
            messages.success(
                request,
                _("%(old)s is now %(new)s. Pulls of the old name still work until it is reused.")
                % {"old": old_name, "new": repository.full_name},
            )
            return redirect(_section_url(repository))
        repository.refresh_from_db()
    return _render_settings(request, repository, transfer_form=form)


@login_required
@require_POST
def repository_redirect_delete(request, namespace, name, redirect_id):
    repository = _repository_for_owner(request, namespace, name)
    old = get_object_or_404(
        selectors.repository_redirect_list(repository=repository), pk=redirect_id
    )
    redirect_delete(redirect=old, actor=request.user)
    messages.success(request, _("%(name)s no longer leads here.") % {"name": old.full_name})
    return redirect(_section_url(repository))
