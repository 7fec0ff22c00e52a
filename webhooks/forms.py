"""The webhook form of the repository's webhooks page."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from webhooks.models import Webhook
from webhooks.services.events import EVENT_CHOICES


class WebhookForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    url = forms.URLField(
        label=_("Payload URL"),
        max_length=2000,
        assume_scheme="https",
        help_text=_("Receives a signed POST (Standard Webhooks headers) for each event."),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=EVENT_CHOICES,
        initial=["push"],
        widget=forms.CheckboxSelectMultiple,
    )
    payload_format = forms.ChoiceField(
        label=_("Payload format"), choices=Webhook.Format.choices, initial=Webhook.Format.DOCKER_HUB
    )
    secret = forms.CharField(
        label=_("Secret"),
        max_length=200,
        required=False,
        help_text=_("whsec_<base64 key>. Leave empty to generate one; it is shown once."),
    )
    regenerate_secret = forms.BooleanField(label=_("Generate a new secret"), required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["secret"].help_text = _(
                "whsec_<base64 key>. Leave empty to keep the current secret."
            )
        else:
            del self.fields["regenerate_secret"]

    @classmethod
    def for_webhook(cls, webhook: Webhook, data=None) -> WebhookForm:
        initial = {
            "name": webhook.name,
            "url": webhook.url,
            "events": webhook.events,
            "payload_format": webhook.payload_format,
            "is_active": webhook.is_active,
        }
        return cls(data, initial=initial, editing=True)
