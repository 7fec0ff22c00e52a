from django.apps import AppConfig


class RegistryApiConfig(AppConfig):
    name = "registry_api"
    verbose_name = "Registry"

    def ready(self):
        # The authorization decision (hub.permissions) reads which names the pull-through
        # cache serves from here, so hub never imports the registry.
        from hub.permissions import name_policy_provider_set
        from registry_api.proxy.upstreams import name_policy

        name_policy_provider_set(name_policy)
