"""Robot account forms: a name, a description, an expiry, and a level per repository."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hub.forms import EXPIRY_CHOICES
from hub.models import RobotPermission

LEVEL_CHOICES = [("", _("None")), *RobotPermission.Level.choices]
ALL_FIELD = "grant_all"


class RobotForm(forms.Form):
    """Edit a robot; RobotCreateForm adds the name. One level field per repository of the
    namespace, plus one for all of them."""

    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    expires_in_days = forms.ChoiceField(
        label=_("Expires"),
        choices=[("keep", _("Unchanged")), *EXPIRY_CHOICES],
        required=False,
        initial="keep",
    )
    disabled = forms.BooleanField(label=_("Disabled"), required=False)

    def __init__(self, *args, repositories=(), grants=None, **kwargs):
        super().__init__(*args, **kwargs)
        grants = grants or {}
        self.repositories = list(repositories)
        self.fields[ALL_FIELD] = forms.ChoiceField(
            label=_("All repositories of the namespace"),
            choices=LEVEL_CHOICES,
            required=False,
            initial=grants.get(None, ""),
            help_text=_("With push, the robot may also create repositories by pushing."),
        )
        for repository in self.repositories:
            self.fields[f"grant_{repository.pk}"] = forms.ChoiceField(
                label=repository.name,
                choices=LEVEL_CHOICES,
                required=False,
                initial=grants.get(repository.name, ""),
            )

    def expires_at(self):
        days = self.cleaned_data.get("expires_in_days")
        if days == "keep":
            return "keep"
        return timezone.now() + timedelta(days=int(days)) if days else None

    def permissions(self) -> list[dict]:
        chosen = []
        if level := self.cleaned_data.get(ALL_FIELD):
            chosen.append({"repository": None, "level": level})
        for repository in self.repositories:
            if level := self.cleaned_data.get(f"grant_{repository.pk}"):
                chosen.append({"repository": repository.name, "level": level})
        return chosen

    def grant_fields(self):
        return [self[name] for name in self.fields if name.startswith("grant_")]


class RobotCreateForm(RobotForm):
    name = forms.CharField(
        label=_("Name"),
        max_length=64,
        help_text=_("Lowercase letters and digits; the robot signs in as <namespace>+<name>."),
    )
    field_order = ["name", "description", "expires_in_days"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["disabled"]
        expiry = self.fields["expires_in_days"]
        expiry.choices = EXPIRY_CHOICES
        expiry.initial = ""
