"""Admin forms: a tool's per-tenant settings are a form drawn from its settings schema, checked
against that schema on save."""

import json
from typing import Any, cast

from django import forms

from tools_registry.models import TenantSecret, ToolEnablement
from tools_registry.registry import tool_get, tool_names
from tools_registry.settings_form import ToolSettingsField, editor_schema


class ToolEnablementForm(forms.ModelForm):
    """A tool of a persona: which one, whether it is on, and its settings as a form.

    The settings form is the chosen tool's; choosing another tool in the page redraws it
    (`nexus/tool-settings.js`, from the schemas the tool choice carries).
    """

    tool_name = forms.ChoiceField(choices=(), label="Tool")

    class Meta:
        model = ToolEnablement
        fields = ["tool_name", "is_enabled", "settings"]

    class Media:
        js = ["nexus/tool-settings.js"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        names = tool_names()
        tool_field = cast(forms.ChoiceField, self.fields["tool_name"])
        tool_field.choices = [("", "---------"), *((name, name) for name in names)]
        schemas = {
            name: editor_schema(tool.settings_schema) for name in names if (tool := tool_get(name))
        }
        tool_field.widget.attrs["data-settings-schemas"] = json.dumps(schemas)
        self.fields["settings"] = ToolSettingsField(tool_get(self._tool_name()), label="Settings")

    def _tool_name(self) -> str:
        """The tool whose settings the form holds: as posted, else as saved."""
        if self.is_bound:
            return self.data.get(self.add_prefix("tool_name"), "")
        return self.instance.tool_name or self.initial.get("tool_name", "")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        tool = tool_get(cleaned.get("tool_name", ""))
        if tool is not None and "settings" in cleaned:
            problems = tool.settings_errors(cleaned["settings"])
            for problem in problems:
                self.add_error("settings", problem)
            cast(ToolSettingsField, self.fields["settings"]).show_problems(problems)
        return cleaned


class TenantSecretForm(forms.ModelForm):
    value = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        help_text="Stored for tools to use and never shown again; empty keeps the current one.",
        required=False,
    )

    class Meta:
        model = TenantSecret
        fields = ["name", "value"]

    def clean_value(self) -> str:
        value = self.cleaned_data["value"]
        if not value and self.instance.pk:
            return self.instance.value
        if not value:
            raise forms.ValidationError("A new secret needs a value.")
        return value
