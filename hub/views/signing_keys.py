"""A namespace's signing keys in the portal: the user's own (settings) or an organization's
(its owners). Registry-wide keys are listed read-only; administrators manage them in the admin."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import F, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hub import permissions
from hub.forms import validation_errors_to_form
from hub.forms_signing_keys import SigningKeyForm
from hub.models import Namespace, SigningKey
from hub.services.signing_keys import signing_key_add, signing_key_delete
from hub.views.owned_namespaces import managed_namespace


def _namespace(request, org: str | None) -> Namespace:
    return managed_namespace(request, org, may_manage=permissions.can_admin_namespace)


def _to_list(org):
    if org is None:
        return redirect("accounts:signing-keys")
    return redirect("accounts:org-signing-keys", namespace=org)


@login_required
def signing_key_index(request, namespace: str | None = None):
    space = _namespace(request, namespace)
    form = SigningKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            key = signing_key_add(
                namespace=space, actor=request.user, request=request, **form.cleaned_data
            )
        except ValidationError as error:
            validation_errors_to_form(form, error)
        else:
            messages.success(request, _("Signing key %(name)s added.") % {"name": key.name})
            return _to_list(namespace)
    keys = SigningKey.objects.filter(Q(namespace=space) | Q(namespace__isnull=True)).order_by(
        F("namespace_id").asc(nulls_last=True), "name"
    )
    context = {"space": space, "org": namespace, "keys": keys, "form": form}
    return render(request, "hub/signing_keys/index.html", context)


@login_required
@require_POST
def signing_key_remove(request, key_id: int, namespace: str | None = None):
    space = _namespace(request, namespace)
    key = get_object_or_404(SigningKey, namespace=space, pk=key_id)
    signing_key_delete(key=key, actor=request.user, request=request)
    messages.success(request, _("Signing key %(name)s removed.") % {"name": key.name})
    return _to_list(namespace)
