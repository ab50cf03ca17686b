from django.apps import AppConfig
from django.conf import settings


class ToolsRegistryConfig(AppConfig):
    name = "tools_registry"
    verbose_name = "Tools"

    def ready(self) -> None:
        from tools_registry import builtin  # noqa: F401  (registers the built-in tools)
        from tools_registry.registry import modules_load

        modules_load(settings.NEXUS_TOOL_MODULES)
