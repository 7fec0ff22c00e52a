"""The profile form of the settings pages; hub.services.profiles checks what it saves."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ProfileForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=100, required=False)
    bio = forms.CharField(
        label=_("Bio"), max_length=200, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    links = forms.CharField(
        label=_("Links"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Up to 5 http(s) addresses, one per line."),
    )
    avatar = forms.FileField(
        label=_("Avatar"),
        required=False,
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/png,image/jpeg,image/gif,image/webp"}
        ),
        help_text=_(
            "PNG, JPEG, GIF or WebP, at most 512 KB. Without one, a pattern drawn from your name."
        ),
    )

    @classmethod
    def for_user(cls, user, data=None, files=None) -> ProfileForm:
        initial = {"full_name": user.full_name, "bio": user.bio, "links": "\n".join(user.links)}
        return cls(data, files, initial=initial)

    def link_list(self) -> list[str]:
        return self.cleaned_data["links"].splitlines()
