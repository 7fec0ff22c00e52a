"""The form of a namespace's signing-keys page (hub.views.signing_keys)."""

from __future__ import annotations

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from hub.models import SigningKey


class SigningKeyForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        validators=[RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\Z")],
        help_text=_("Letters, digits, '.', '_' and '-'; shown as \"verified by key <name>\"."),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=SigningKey.Kind.choices)
    pem = forms.CharField(
        label=_("PEM"),
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        help_text=_(
            "Cosign: the public key (cosign.pub, -----BEGIN PUBLIC KEY-----). "
            "Notation: a trust-store certificate (-----BEGIN CERTIFICATE-----)."
        ),
    )
