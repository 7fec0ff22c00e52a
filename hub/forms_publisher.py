"""The organization's public profile, as its owners edit it. No badge field: see
hub.services.publishers."""

from __future__ import annotations

from django import forms
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _


class OrganizationProfileForm(forms.Form):
    display_name = forms.CharField(label=_("Display name"), max_length=100, required=False)
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    website = forms.URLField(
        label=_("Website"),
        required=False,
        assume_scheme="https",
        validators=[URLValidator(schemes=["http", "https"])],
        help_text=_("An http:// or https:// address, shown on the organization's page."),
    )
