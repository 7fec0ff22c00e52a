"""Forms of the repository pages: creation, settings, collaborators, comments, deletion."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hub.models import Collaborator, Comment, Namespace, Repository
from hub.names import validate_repository_name


class RepositoryCreateForm(forms.Form):
    """A repository made before its first push, in one of the namespaces the caller may create
    in (the view passes them: hub.permissions.can_create decides)."""

    VISIBILITY_CHOICES = [
        ("public", _("Public: anyone who may read this registry pulls it")),
        ("private", _("Private: only you, your organization and collaborators see it")),
    ]
    namespace = forms.ChoiceField(label=_("Namespace"))
    name = forms.CharField(
        label=_("Name"),
        max_length=255,
        validators=[validate_repository_name],
        help_text=_("Lowercase letters, digits and separators; '/' nests: <namespace>/<name>."),
    )
    visibility = forms.ChoiceField(
        label=_("Visibility"), choices=VISIBILITY_CHOICES, widget=forms.RadioSelect
    )
    description = forms.CharField(label=_("Short description"), max_length=100, required=False)
    full_description = forms.CharField(
        label=_("Full description (Markdown)"),
        max_length=25000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
    )

    def __init__(self, *args, namespaces: list[Namespace], private_default: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.namespaces = {namespace.name: namespace for namespace in namespaces}
        self.fields["namespace"].choices = [(name, name) for name in self.namespaces]
        self.fields["visibility"].initial = "private" if private_default else "public"

    def clean_namespace(self) -> Namespace:
        return self.namespaces[self.cleaned_data["namespace"]]

    def service_fields(self) -> dict:
        """The keyword arguments of hub.services.repositories.repository_create."""
        data = self.cleaned_data
        return {
            "namespace": data["namespace"],
            "name": data["name"],
            "is_private": data["visibility"] == "private",
            "description": data["description"],
            "full_description": data["full_description"],
        }


class RepositorySettingsForm(forms.ModelForm):
    class Meta:
        model = Repository
        fields = [
            "description",
            "full_description",
            "source_url",
            "documentation_url",
            "homepage_url",
            "license",
            "is_private",
            "comments_enabled",
            "require_signature",
        ]
        labels = {
            "description": _("Short description"),
            "full_description": _("Full description (Markdown)"),
            "is_private": _("Private: only you, your organization and collaborators see it"),
            "comments_enabled": _("Allow comments"),
            "source_url": _("Source code URL"),
            "documentation_url": _("Documentation URL"),
            "homepage_url": _("Home page URL"),
            "license": _("Licence (SPDX expression)"),
            "require_signature": _(
                "Require a verified signature to pull (a cosign or Notation signature checked "
                "against the namespace's signing keys)"
            ),
        }
        help_texts = {
            "description": _("Left empty, it is filled from the image's annotations on push."),
        }
        widgets = {
            "full_description": forms.Textarea(attrs={"rows": 12}),
        }


class CollaboratorAddForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=64)
    role = forms.ChoiceField(
        label=_("Role"), choices=Collaborator.Role.choices, initial=Collaborator.Role.READ
    )


class CollaboratorRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Collaborator.Role.choices)


class CommentForm(forms.ModelForm):
    class Meta:
        model = Comment
        fields = ["body"]
        labels = {"body": _("Comment")}
        widgets = {
            "body": forms.Textarea(
                attrs={"rows": 3, "placeholder": _("Write a comment (Markdown)")}
            )
        }


class RepositoryDeleteForm(forms.Form):
    """Deletion must be confirmed by typing the repository's full name."""

    confirm = forms.CharField(label=_("Type the repository's full name to confirm"))

    def __init__(self, *args, repository: Repository, **kwargs):
        super().__init__(*args, **kwargs)
        self.repository = repository

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"].strip()
        if value != self.repository.full_name:
            raise forms.ValidationError(
                _("That is not the name of this repository (%(name)s).")
                % {"name": self.repository.full_name}
            )
        return value


class SearchForm(forms.Form):
    SORT_CHOICES = [
        ("relevance", _("Best match")),
        ("stars", _("Most stars")),
        ("pulls", _("Most pulls")),
        ("updated", _("Recently updated")),
    ]
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=SORT_CHOICES)
    org = forms.BooleanField(required=False, label=_("Organizations only"))


class ImmutabilityRuleForm(forms.Form):
    """A tag pattern to protect; namespace owners may make it cover the whole namespace."""

    SCOPE_CHOICES = [
        ("repository", _("This repository")),
        ("namespace", _("Every repository of the namespace")),
    ]
    pattern = forms.CharField(
        label=_("Tag pattern"),
        max_length=200,
        help_text=_(
            "A glob: v*, release-*, or * for every tag; or a regular expression written "
            "re:^v\\d+$ (searched in the tag name)."
        ),
    )
    scope = forms.ChoiceField(
        label=_("Applies to"), choices=SCOPE_CHOICES, initial="repository", required=False
    )

    def __init__(self, *args, namespace_admin: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not namespace_admin:
            del self.fields["scope"]
