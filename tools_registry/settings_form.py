"""A tool's settings as a form in the admin: django-jsonform's editor, built from the tool's
settings schema.

The editor shows one input per setting (a select for a choice, a number input for a number,
key/value rows for a mapping); a setting that is itself a free-form JSON object (the JSON schema
of an `http_request`'s parameters) is a text area holding that JSON. What the editor posts is
turned back into settings (empty inputs left out) and checked by the tool itself; its problems
are shown on the inputs they concern.
"""

import json
from typing import Any

from django import forms
from django_jsonform.constants import JOIN_SYMBOL
from django_jsonform.widgets import JSONFormWidget

from tools_registry.base import EMPTY_OBJECT, BaseTool

EMPTY_VALUES: tuple[Any, ...] = (None, "", {}, [])
ENUM_TYPES = {str: "string", bool: "boolean", int: "integer", float: "number"}


def _free_form(schema: dict[str, Any]) -> bool:
    """Whether a setting is an object of any shape (no properties, no schema for its values)."""
    extra = schema.get("additionalProperties", True)
    return schema.get("type") == "object" and "properties" not in schema and extra is True


def editor_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema the editor draws: each setting with a label (its title, else its name) and its
    description as help text, a free-form object as a text area of JSON."""
    properties = {}
    for name, setting in schema.get("properties", {}).items():
        if _free_form(setting):
            shown = {"type": "string", "widget": "textarea", "help_text": "as JSON"}
        else:
            shown = _drawable(setting)
        shown.setdefault("title", name.replace("_", " ").capitalize())
        if "description" in setting:
            shown["help_text"] = setting["description"]
        properties[name] = shown
    return {"type": "object", "properties": properties, "additionalProperties": False}


def _drawable(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` as the editor draws it: it needs a type for choices and properties (maybe none)
    for an object, at every depth."""
    drawn = dict(schema)
    if "type" not in drawn and drawn.get("enum"):
        drawn["type"] = ENUM_TYPES.get(type(drawn["enum"][0]), "string")
    if drawn.get("type") == "object":
        properties = drawn.get("properties", {})
        drawn["properties"] = {name: _drawable(child) for name, child in properties.items()}
    for key in ("items", "additionalProperties"):
        if isinstance(drawn.get(key), dict):
            drawn[key] = _drawable(drawn[key])
    return drawn


def editor_data(settings: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Settings as the editor holds them: free-form objects as JSON text."""
    shapes = schema.get("properties", {})
    return {
        name: json.dumps(value, indent=2)
        if _free_form(shapes.get(name, {})) and not isinstance(value, str)
        else value
        for name, value in settings.items()
    }


def settings_from_editor(data: Any, schema: dict[str, Any]) -> Any:
    """What the editor posted, as settings: empty inputs left out, JSON text read."""
    if not isinstance(data, dict):
        return data
    shapes = schema.get("properties", {})
    settings = {}
    for name, value in data.items():
        if value in EMPTY_VALUES:
            continue
        if _free_form(shapes.get(name, {})) and isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError as error:
                raise forms.ValidationError(f"{name}: not valid JSON ({error})") from None
        settings[name] = value
    return settings


def problems_by_input(problems: list[str]) -> dict[str, list[str]]:
    """A tool's `path: message` problems keyed by the editor input they concern (its error map);
    a missing required setting is shown on its own input, others of the whole on top."""
    by_input: dict[str, list[str]] = {}
    for problem in problems:
        path, _, message = problem.partition(": ")
        if path == "(top level)":
            missing = message.removesuffix(" is a required property")
            path = missing.strip("'") if missing != message else ""
        by_input.setdefault(path.replace(".", JOIN_SYMBOL), []).append(message)
    return by_input


class ToolSettingsField(forms.JSONField):
    """A tool's settings, edited with the editor its settings schema draws."""

    def __init__(self, tool: BaseTool | None, **kwargs: Any) -> None:
        self.schema = tool.settings_schema if tool else EMPTY_OBJECT
        kwargs.setdefault("required", False)
        if tool and not self.schema.get("properties"):
            kwargs.setdefault("help_text", "This tool has no settings.")
        super().__init__(widget=JSONFormWidget(schema=editor_schema(self.schema)), **kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dict):
            value = editor_data(value, self.schema)
        return super().prepare_value(value)

    def to_python(self, value: Any) -> Any:
        return settings_from_editor(super().to_python(value) or {}, self.schema)

    def show_problems(self, problems: list[str]) -> None:
        """Show the tool's problems with the settings on the editor's inputs."""
        widget = self.widget
        assert isinstance(widget, JSONFormWidget)
        widget.add_error(problems_by_input(problems))
