from django.apps import AppConfig


class RegistryApiConfig(AppConfig):
    name = "registry_api"
    verbose_name = "Registry"
