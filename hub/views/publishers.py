"""The publisher profile settings page: owners edit display name, description and website."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from hub import permissions, selectors
from hub.forms import validation_errors_to_form
from hub.forms_publisher import OrganizationProfileForm
from hub.services.publishers import organization_profile_update


@login_required
def organization_profile(request, namespace: str):
    space = selectors.namespace_get(name=namespace)
    if space is None or not space.is_organization:
        raise Http404
    if not permissions.can_manage_organization(request.user, space):
        raise PermissionDenied
    organization = space.organization
    initial = {field: getattr(organization, field) for field in OrganizationProfileForm.base_fields}
    form = OrganizationProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            organization_profile_update(organization=organization, **form.cleaned_data)
        except ValidationError as exc:
            validation_errors_to_form(form, exc)
        else:
            messages.success(request, _("Profile saved."))
            return redirect("hub:profile", namespace)
    context = {"form": form, "organization": organization}
    return render(request, "hub/org/profile.html", context, status=400 if form.errors else 200)
