from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class RegistryApiConfig(AppConfig):
    name = "registry_api"
    verbose_name = "Registry"

    def ready(self):
        from hub.models import Namespace, Repository
        from registry_api.lookups import names_changed

        # The /v2/ gate remembers name -> repository (registry_api.lookups). Those rows change in
        # the hub services, in the admin and by cascading deletes: any of these voids the memory.
        for model in (Namespace, Repository):
            post_save.connect(names_changed, sender=model, dispatch_uid=f"lookups-{model}-save")
            post_delete.connect(names_changed, sender=model, dispatch_uid=f"lookups-{model}-del")

        # The authorization decision (hub.permissions) reads which names the pull-through
        # cache serves from here, so hub never imports the registry.
        from hub.permissions import name_policy_provider_set
        from registry_api.proxy.upstreams import name_policy

        name_policy_provider_set(name_policy)
