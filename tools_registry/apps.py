from django.apps import AppConfig


class ToolsRegistryConfig(AppConfig):
    name = "tools_registry"
    verbose_name = "Tools"
