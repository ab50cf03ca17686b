"""The tools known to this process, by name.

Built-in tools register when the app loads; a business's own tools live outside the core, in
modules named by the `NEXUS_TOOL_MODULES` setting, which register theirs when imported.
"""

import importlib

from tools_registry.base import BaseTool

_tools: dict[str, BaseTool] = {}


def register(tool_class: type[BaseTool]) -> type[BaseTool]:
    """Class decorator: make a tool available by its name (once per name)."""
    existing = _tools.get(tool_class.name)
    if existing is not None and type(existing) is not tool_class:
        raise ValueError(f"two tools are named {tool_class.name!r}")
    _tools[tool_class.name] = tool_class()
    return tool_class


def tool_get(name: str) -> BaseTool | None:
    return _tools.get(name)


def tool_names() -> list[str]:
    return sorted(_tools)


def modules_load(module_names: list[str]) -> None:
    """Import the modules that register a business's own tools."""
    for module_name in module_names:
        importlib.import_module(module_name)
