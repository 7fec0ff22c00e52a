"""Creating a repository from the browser, before its first push."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from hub import permissions, selectors
from hub.forms import validation_errors_to_form
from hub.forms_repository import RepositoryCreateForm
from hub.services.repositories import default_is_private, repository_create


def _creatable_namespaces(user) -> list:
    candidates = selectors.namespace_list_candidates(user=user)
    return [namespace for namespace in candidates if permissions.can_create(user, namespace)]


@login_required
def repository_new(request):
    form = RepositoryCreateForm(
        request.POST or None,
        namespaces=_creatable_namespaces(request.user),
        private_default=default_is_private(),
        initial={"namespace": request.GET.get("namespace", "")},
    )
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        full_name = f"{fields['namespace'].name}/{fields['name']}"
        if permissions.name_policy(full_name).mirrored:
            form.add_error("name", _("This name is served by the pull-through cache."))
        else:
            try:
                repository = repository_create(actor=request.user, **fields)
            except ValidationError as exc:
                validation_errors_to_form(form, exc)
            else:
                messages.success(request, _("Repository %(name)s created.") % {"name": full_name})
                return redirect(repository)
    return render(request, "hub/repository_new.html", {"form": form})
