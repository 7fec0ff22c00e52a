from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save


class RegistryApiConfig(AppConfig):
    name = "registry_api"
    verbose_name = "Registry"

    def ready(self):
        from hub.models import Namespace, Repository, RepositoryRedirect
        from registry_api.lookups import names_changed

        # The /v2/ gate remembers name -> repository and old name -> moved repository
        # (registry_api.lookups). Those rows change in the hub services, in the admin and by
        # cascading deletes: any of these voids the memory.
        for model in (Namespace, Repository, RepositoryRedirect):
            post_save.connect(names_changed, sender=model, dispatch_uid=f"lookups-{model}-save")
            post_delete.connect(names_changed, sender=model, dispatch_uid=f"lookups-{model}-del")

        # Storage usage counters follow every change of what a repository holds, whoever makes
        # it (registry_api.services.usage).
        from registry_api.models import Manifest, ManifestTombstone, RepositoryBlob
        from registry_api.services.usage import holding_references_changed, holding_row_changed

        for model in (Manifest, ManifestTombstone, RepositoryBlob):
            for name, signal in (("save", post_save), ("delete", post_delete)):
                uid = f"usage-{model.__name__}-{name}"
                signal.connect(holding_row_changed, sender=model, dispatch_uid=uid)
        for model in (Manifest, ManifestTombstone):
            m2m_changed.connect(
                holding_references_changed,
                sender=model.blobs.through,
                dispatch_uid=f"usage-{model.__name__}-blobs",
            )

        # The authorization decision (hub.permissions) reads which names the pull-through
        # cache serves from here, so hub never imports the registry.
        from hub.permissions import name_policy_provider_set
        from registry_api.proxy.upstreams import name_policy

        name_policy_provider_set(name_policy)
