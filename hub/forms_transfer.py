"""The repository settings form that renames a repository or moves it to another namespace."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hub import permissions, selectors
from hub.models import Namespace, Repository
from hub.names import validate_repository_name


class RepositoryTransferForm(forms.Form):
    namespace = forms.ChoiceField(
        label=_("Namespace"),
        help_text=_("Yours, or an organization's where you may create repositories."),
    )
    name = forms.CharField(
        label=_("New name"), max_length=255, validators=[validate_repository_name]
    )

    def __init__(self, *args, repository: Repository, user, **kwargs):
        kwargs.setdefault(
            "initial", {"namespace": repository.namespace.name, "name": repository.name}
        )
        super().__init__(*args, **kwargs)
        self.repository = repository
        candidates = [
            namespace
            for namespace in selectors.namespace_list_candidates(user=user)
            if namespace.pk == repository.namespace_id or permissions.can_create(user, namespace)
        ]
        if repository.namespace_id not in {namespace.pk for namespace in candidates}:
            candidates.insert(0, repository.namespace)
        self.namespaces = {namespace.name: namespace for namespace in candidates}
        self.fields["namespace"].choices = [(name, name) for name in self.namespaces]

    def clean_namespace(self) -> Namespace:
        return self.namespaces[self.cleaned_data["namespace"]]
